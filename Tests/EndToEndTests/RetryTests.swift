import Foundation
import Ledger
import Testing

/// Retries across channels (`--retries N`): a failure about the channel (no
/// answer, 5xx, 429, a refused key or quota) moves on to the next channel —
/// never one already tried, never after a byte reached the client — and every
/// attempt is in the request's log row.
@Suite(.serialized) struct RetryTests {
    /// Three channels serving `rt`, each mapping it to its own model (so the mock tells them apart), by falling priority.
    static func three(_ models: [String]) -> @Sendable (Ledger, UserID) async throws -> Void {
        Routing.channels(
            { mock in
                models.enumerated().map { index, model in
                    ChannelDefinition(
                        name: "c\(index)", kind: .openai, baseURL: mock, models: ["rt"], priority: Int64(10 - index), modelMap: ["rt": model])
                }
            }, pricing: ["rt"])
    }

    /// High breaker thresholds: these tests are about retries, not suspension.
    static let calm = ["--breaker-failures", "1000"]

    @Test func aRequestTriesEachChannelAtMostOnce() async throws {
        let failing = ["mock-error-500-a", "mock-error-500-b", "mock-error-500-c"]
        let gateway = try await Gateway.start(arguments: Self.calm + ["--retries", "5"], extra: Self.three(failing))
        defer { Task { await gateway.stop() } }
        let response = try await Routing.chat(gateway, model: "rt")
        #expect(response.status == 502 && response.text.contains("upstream_error"), "\(response.text)")
        #expect(try await Routing.sentModels(gateway.mock) == failing, "each channel once, by priority, however many retries are allowed")
        let row = try #require(try await Routing.logs(gateway, model: "rt").first)
        #expect(row["type"] as? String == "voided")
        let attempts = try #require(row["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["status"] as? Int } == [500, 500, 500])
        #expect(Set(attempts.compactMap { $0["channel"] as? String }).count == 3)
        #expect(attempts.allSatisfy { $0["duration_ms"] is Int })
    }

    @Test func retriesStopAtTheConfiguredCount() async throws {
        let gateway = try await Gateway.start(
            arguments: Self.calm + ["--retries", "1"], extra: Self.three(["mock-error-500-a", "mock-error-500-b", "mock-gpt"]))
        defer { Task { await gateway.stop() } }
        let response = try await Routing.chat(gateway, model: "rt")
        #expect(response.status == 502, "\(response.text)")
        #expect(try await Routing.sentModels(gateway.mock) == ["mock-error-500-a", "mock-error-500-b"])
    }

    @Test(arguments: ["mock-error-429", "mock-error-500", "mock-error-401"])
    func aFailureAboutTheChannelIsAnsweredByTheNext(fault: String) async throws {
        let gateway = try await Gateway.start(arguments: Self.calm, extra: Self.three([fault, "mock-gpt", "mock-gpt-cached"]))
        defer { Task { await gateway.stop() } }
        let response = try await Routing.chat(gateway, model: "rt")
        #expect(response.status == 200, "\(response.text)")
        #expect(try await Routing.sentModels(gateway.mock) == [fault, "mock-gpt"])
        let row = try #require(try await Routing.logs(gateway, model: "rt").first)
        let second = try #require(try await Routing.channel(gateway, named: "c1")?["id"] as? String)
        #expect(row["type"] as? String == "settled" && row["channel"] as? String == second, "the settle names the channel that answered")
        #expect((row["attempts"] as? [[String: Any]])?.count == 2)
    }

    @Test func aRefusalAboutTheRequestIsNotRetried() async throws {
        let gateway = try await Gateway.start(arguments: Self.calm, extra: Self.three(["mock-error-400", "mock-gpt", "mock-gpt"]))
        defer { Task { await gateway.stop() } }
        let response = try await Routing.chat(gateway, model: "rt")
        #expect(response.status == 400, "\(response.text)")
        #expect(try await Routing.sentModels(gateway.mock) == ["mock-error-400"])
    }

    /// `mock-abort` streams half its answer, then drops the connection: bytes
    /// reached the client, so the request is not tried again elsewhere.
    @Test func noRetryOnceAByteReachedTheClient() async throws {
        let gateway = try await Gateway.start(arguments: Self.calm, extra: Self.three(["mock-abort", "mock-gpt", "mock-gpt"]))
        defer { Task { await gateway.stop() } }
        let response = try? await Routing.chat(gateway, model: "rt", stream: true, maxTokens: 8)
        #expect(response.map { !$0.text.contains("[DONE]") } ?? true, "the stream is cut, not completed elsewhere")
        #expect(try await Routing.sentModels(gateway.mock) == ["mock-abort"])
        let row = try #require(try await Routing.logs(gateway, model: "rt").first)
        #expect((row["attempts"] as? [[String: Any]])?.count == 1)
    }
}
