import ArgumentParser
import AsyncHTTPClient
import Hummingbird
import NIOCore
import NIOHTTP1

/// `tally bench proxy-floor`: a server on the relay's own stack — Hummingbird,
/// AsyncHTTPClient, the same event loops and executor — that forwards every
/// POST to one upstream and passes the answer back (streamed when the upstream
/// streams), with nothing of Tally in between: no admission, no ledger, no body
/// inspection, no charge. `tools/bench relay` loads it beside nginx and Tally,
/// so Tally's CPU per request splits into what the stack costs and what Tally adds.
struct BenchProxyFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy-floor", abstract: "Serve a bare Hummingbird + AsyncHTTPClient proxy (the relay stack's floor).")

    @OptionGroup var endpoints: FloorEndpoints

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let base = "http://127.0.0.1:\(endpoints.upstreamPort)"
        let router = Router()
        router.post("**") { request, _ -> Response in
            var forwarded = HTTPClientRequest(url: base + request.uri.path)
            forwarded.method = .POST
            forwarded.headers.add(name: "content-type", value: request.headers[.contentType] ?? "application/json")
            forwarded.body = .bytes(try await request.body.collect(upTo: 1 << 22))
            let response = try await client.execute(forwarded, timeout: .seconds(60))
            let contentType = response.headers.first(name: "content-type") ?? "application/json"
            let status = HTTPResponse.Status(code: Int(response.status.code))
            guard contentType.contains("event-stream") else {
                let body = try await response.body.collect(upTo: 1 << 24)
                return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: body))
            }
            return Response(
                status: status, headers: [.contentType: contentType],
                body: ResponseBody { writer in
                    for try await chunk in response.body { try await writer.write(chunk) }
                    try await writer.finish(nil)
                })
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: endpoints.port)))
        try await app.runService()
        try await client.shutdown()
    }
}
