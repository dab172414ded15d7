import ArgumentParser

/// Where a floor proxy (`proxy-floor`, `nio-floor`) listens and forwards: both on loopback.
struct FloorEndpoints: ParsableArguments {
    @Option(help: "Port to listen on (127.0.0.1).") var port: Int
    @Option(help: "The upstream's port on 127.0.0.1.") var upstreamPort: Int
}
