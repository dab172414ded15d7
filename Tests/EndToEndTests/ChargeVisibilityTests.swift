import Foundation
import Ledger
import Testing

/// Issue 10's second finding: a client that has its answer — it read the
/// stream's terminal event, not the end of the body, or a whole non-streamed
/// response — and at once asks for its usage finds the request charged, in
/// `GET /api/tokens/{id}` and in `GET /api/logs`. Read over a raw socket so
/// nothing but the bytes that arrived decides when the test looks.
@Suite(.serialized) struct ChargeVisibilityTests {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)
    static let prompt = "one two three four five six seven"
    /// Each family is tried this many times: one lucky ordering must not pass the test.
    static let rounds = 3

    struct Case: CustomStringConvertible {
        var name: String
        var path: String
        var model: String
        var body: [String: Any]
        var headers: [(String, String)]
        var usage: Usage
        /// Bytes that show the client has its whole answer (for a non-streamed response: nil, the full response).
        var end: [UInt8]?
        var description: String { name }
    }

    /// Streams use `mock-slow`, whose body ends 150 ms after its last event: a
    /// gateway that let the terminal event through before charging (it charges
    /// at the end of the upstream's body) is caught every time, not by luck.
    static func cases(key: String) -> [Case] {
        let bearer = [("Authorization", "Bearer \(key)")]
        let anthropic = [("x-api-key", key), ("anthropic-version", "2023-06-01")]
        let messages: [[String: String]] = [["role": "user", "content": prompt]]
        let gemini: [String: Any] = ["contents": [["role": "user", "parts": [["text": prompt]]]], "generationConfig": ["maxOutputTokens": 6]]
        return [
            Case(
                name: "openai chat stream", path: "/v1/chat/completions", model: "mock-slow",
                body: ["model": "mock-slow", "messages": messages, "max_tokens": 5, "stream": true], headers: bearer,
                usage: Usage(promptTokens: 7, completionTokens: 5), end: Array("data: [DONE]".utf8)),
            Case(
                name: "responses stream", path: "/v1/responses", model: "mock-slow",
                body: ["model": "mock-slow", "input": prompt, "max_output_tokens": 5, "stream": true], headers: bearer,
                usage: Usage(promptTokens: 7, completionTokens: 5), end: Array("event: response.completed\n".utf8)),
            Case(
                name: "anthropic stream", path: "/v1/messages", model: "mock-slow",
                body: ["model": "mock-slow", "max_tokens": 4, "messages": messages, "stream": true], headers: anthropic,
                usage: Usage(promptTokens: 7, completionTokens: 4), end: Array("event: message_stop\n".utf8)),
            // No terminal event: the SDK reads to the end of the body (the last chunk of the chunked encoding).
            Case(
                name: "gemini alt=sse", path: "/v1beta/models/mock-slow:streamGenerateContent?alt=sse", model: "mock-slow",
                body: gemini, headers: [("x-goog-api-key", key)],
                usage: Usage(promptTokens: 7, completionTokens: 6), end: Array("\r\n0\r\n\r\n".utf8)),
            Case(
                name: "openai chat", path: "/v1/chat/completions", model: "mock-gpt",
                body: ["model": "mock-gpt", "messages": messages, "max_tokens": 5], headers: bearer,
                usage: Usage(promptTokens: 7, completionTokens: 5), end: nil),
        ]
    }

    @Test func aChargeIsVisibleAsSoonAsTheClientHasItsAnswer() async throws {
        let gateway = try await Gateway.start(extra: Seed.slowEverywhere)
        defer { gateway.mock.stop() }
        let admin = [("Authorization", "Bearer \(Self.adminKey)")]
        let tokenURL = gateway.base + "/api/tokens/\(gateway.seeded.token)"
        var used = try #require(try await HTTP.get(tokenURL, headers: admin).json?["used"] as? Int)
        for round in 0..<Self.rounds {
            for item in Self.cases(key: gateway.key) {
                let requestID = "visible-\(round)-\(item.name.replacingOccurrences(of: " ", with: "-"))"
                let credits = Int(PriceMath.credits(for: item.usage, price: Seed.prices[item.model]!, multiplier: .one))
                let socket = try RawSocket(port: gateway.server.port)
                await socket.send(Self.request(item, requestID: requestID))
                let answered = await Self.waitForAnswer(socket, end: item.end)
                try #require(answered, "\(item.name): no answer; got \(String(decoding: socket.received, as: UTF8.self))")
                #expect(socket.statusLine == "HTTP/1.1 200 OK", "\(item.name)")

                // At once, on other connections: the token's `used`, then the request's log row.
                let token = try await HTTP.get(tokenURL, headers: admin)
                let nowUsed = try #require(token.json?["used"] as? Int)
                #expect(nowUsed == used + credits, "\(item.name) round \(round): used \(nowUsed), expected \(used) + \(credits)")
                used = nowUsed
                let logs = try await HTTP.get(gateway.base + "/api/logs?token=\(gateway.seeded.token)&type=settled&limit=5", headers: admin)
                let rows = (logs.json?["data"] as? [[String: Any]]) ?? []
                let row = rows.first { $0["request_id"] as? String == requestID }
                #expect(row != nil, "\(item.name) round \(round): no log row yet; \(logs.text)")
                #expect(row?["credits"] as? Int == credits, "\(item.name)")
                #expect(row?["completion_tokens"] as? Int == Int(item.usage.completionTokens), "\(item.name)")
            }
        }
        await gateway.stop()
    }

    /// The request as a client writes it, keep-alive (the server does not close after it).
    static func request(_ item: Case, requestID: String) -> [UInt8] {
        let body = (try? JSONSerialization.data(withJSONObject: item.body)) ?? Data()
        var head = "POST \(item.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        head += "X-Request-Id: \(requestID)\r\n"
        for (name, value) in item.headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + Array(body)
    }

    /// Polls (briefly, so the test looks as soon as the bytes are there) until
    /// the answer's `end` has arrived (a terminal event and its blank line),
    /// or a whole `Content-Length` response when `end` is nil.
    static func waitForAnswer(_ socket: RawSocket, end: [UInt8]?, within timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            socket.poll()
            if let end {
                if let found = socket.received.firstRange(of: end),
                    end.starts(with: Array("\r\n0".utf8)) || socket.received[found.upperBound...].firstRange(of: Array("\n\n".utf8)) != nil
                {
                    return true
                }
            } else if complete(socket.received) {
                return true
            }
            if socket.closedByServer { return false }
            try? await Task.sleep(for: .microseconds(200))
        }
        return false
    }

    /// Whether `bytes` hold a whole response with a `Content-Length` body.
    static func complete(_ bytes: [UInt8]) -> Bool {
        guard let headEnd = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
        let head = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return bytes.count >= headEnd.upperBound + length
    }
}
