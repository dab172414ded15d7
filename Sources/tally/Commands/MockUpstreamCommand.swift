import ArgumentParser
import Foundation
import Hummingbird
import MockUpstream

/// `tally mock-upstream`: the deterministic fake provider alone, for tests and demos.
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-upstream",
        abstract: "Run the deterministic mock provider (OpenAI, Anthropic, Gemini formats).")

    @Option(help: "Interface to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 = any free port, printed on start).") var port: Int = 9090
    @Option(help: "The upstream key the mock expects.") var key: String = "mock-key"

    func run() async throws {
        let app = buildMockUpstream(MockUpstreamConfiguration(host: host, port: port, apiKey: key)) { bound in
            FileHandle.standardOutput.write(Data("mock upstream listening on \(host):\(bound)\n".utf8))
        }
        try await app.runService()
    }
}
