import AsyncHTTPClient
import Foundation
import Ledger
import NIOCore
import NIOHTTP1
import Testing

/// Issue #10's "Scale, not just speed": past a configured concurrency limit
/// (`--channel-concurrency`, `--max-concurrent-requests`) a request is refused
/// at admission with a 503 in its family's shape and nothing reserved — never a
/// 502 after a reservation — and every way a request ends gives its slot back.
@Suite(.serialized) struct ConcurrencyLimitTests {
    typealias Family = AdmissionTests.Family

    /// A non-streamed request for `mock-slow` (the mock answers after 1.5 s) in `family`'s format.
    static func slowRequest(_ family: Family, base: String, key: String, id: String) async throws -> HTTPResult {
        var (url, headers, body) = AdmissionTests.request(family, key: key, model: "mock-slow", base: base)
        if family == .gemini { url = base + "/v1beta/models/mock-slow:generateContent" }
        return try await HTTP.post(url, headers: headers + [("X-Request-Id", id)], json: body)
    }

    /// Sends `count` slow requests of `family` at once; results by request id.
    static func burst(_ family: Family, count: Int, base: String, key: String, prefix: String) async throws -> [String: HTTPResult] {
        try await withThrowingTaskGroup(of: (String, HTTPResult).self) { group in
            for index in 0..<count {
                let id = "\(prefix)\(index)"
                group.addTask { (id, try await slowRequest(family, base: base, key: key, id: id)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    /// Reservations in the whole log whose request id starts with `prefix`.
    static func reservations(in ledger: Ledger, prefix: String) throws -> [ChargeReserved] {
        try ledger.log.events(after: 0, limit: 1_000_000).compactMap { envelope -> ChargeReserved? in
            if case .chargeReserved(let reserved) = envelope.event, reserved.requestID.hasPrefix(prefix) { reserved } else { nil }
        }
    }

    @Test func aFullChannelRefusesWith503AndReservesNothing() async throws {
        let gateway = try await Gateway.start(arguments: ["--channel-concurrency", "3"], extra: Seed.slowEverywhere)
        let burst = try await Self.burst(.openai, count: 10, base: gateway.base, key: gateway.key, prefix: "req_cc_")
        let admitted = burst.filter { $0.value.status == 200 }
        let refused = burst.filter { $0.value.status == 503 }
        #expect(admitted.count == 3, "\(burst.mapValues(\.status))")
        #expect(refused.count == 7)
        for result in refused.values {
            #expect(AdmissionTests.errorShape(.openai, result) == "overloaded", "\(result.text)")
            #expect(result.json.flatMap { ($0["error"] as? [String: Any])?["type"] as? String } == "server_error")
            #expect(result.headers.first(name: "retry-after") == "1")
        }

        // The slots came back: a new burst is admitted the same way, and each family answers in its shape.
        // One family at a time: the test's shared HTTP client opens at most 8 connections to a host.
        var again: [Family: [String: HTTPResult]] = [:]
        for family in Family.allCases {
            again[family] = try await Self.burst(family, count: 4, base: gateway.base, key: gateway.key, prefix: "req_\(family)_")
        }
        let words: [Family: String] = [.openai: "overloaded", .anthropic: "overloaded_error", .gemini: "UNAVAILABLE"]
        for (family, results) in again {
            #expect(results.values.filter { $0.status == 200 }.count == 3, "\(family): \(results.mapValues(\.status))")
            let over = results.values.filter { $0.status == 503 }
            #expect(over.count == 1, "\(family): each channel has its own three slots")
            #expect(over.allSatisfy { AdmissionTests.errorShape(family, $0) == words[family] }, "\(over.map(\.text))")
        }
        await gateway.stop()

        try await Seed.inspect(gateway.data) { ledger in
            let reserved = try Self.reservations(in: ledger, prefix: "req_cc_")
            #expect(reserved.count == 3, "no reservation for a refused request")
            for id in refused.keys {
                let events = try ledger.log.events(requestID: id)
                #expect(events.isEmpty, "\(id) left an event")
            }
            for id in admitted.keys {
                let events = try ledger.log.events(requestID: id)
                #expect(events.count == 2, "\(id): reserved and settled")
            }
            #expect(await ledger.read { $0.pending.isEmpty })
        }
    }

    @Test func theOverallLimitRefusesAcrossChannels() async throws {
        let gateway = try await Gateway.start(arguments: ["--max-concurrent-requests", "2"], extra: Seed.slowEverywhere)
        let results = try await withThrowingTaskGroup(of: [String: HTTPResult].self) { group in
            group.addTask { try await Self.burst(.openai, count: 3, base: gateway.base, key: gateway.key, prefix: "req_all_o") }
            group.addTask { try await Self.burst(.anthropic, count: 3, base: gateway.base, key: gateway.key, prefix: "req_all_a") }
            return try await group.reduce(into: [:]) { $0.merge($1) { first, _ in first } }
        }
        #expect(results.values.filter { $0.status == 200 }.count == 2, "\(results.mapValues(\.status))")
        #expect(results.values.filter { $0.status == 503 }.count == 4)
        // Released: two more fit again.
        let after = try await Self.burst(.openai, count: 2, base: gateway.base, key: gateway.key, prefix: "req_all_again")
        #expect(after.values.allSatisfy { $0.status == 200 }, "\(after.mapValues(\.status))")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let reserved = try Self.reservations(in: ledger, prefix: "req_all_")
            #expect(reserved.count == 4)
        }
    }

    /// A streamed request holds its slot until its charge closes; a client that
    /// hangs up mid-stream gives it back (after the drain of the provider's answer).
    @Test func aClientHangingUpMidStreamReleasesItsSlot() async throws {
        let gateway = try await Gateway.start(arguments: ["--channel-concurrency", "1"])
        var request = HTTPClientRequest(url: gateway.base + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(gateway.key)")
        request.headers.add(name: "X-Request-Id", value: "req_cc_hangup")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"mock-slow","stream":true,"messages":[{"role":"user","content":"a b c"}]}"#))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let response = try await client.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        // While the stream runs, the channel is full.
        let busy = try await Self.slowRequest(.openai, base: gateway.base, key: gateway.key, id: "req_cc_busy")
        #expect(busy.status == 503, "\(busy.text)")
        try await client.shutdown()  // hang up mid-stream

        var admitted = false
        let deadline = ContinuousClock.now + .seconds(20)
        var attempt = 0
        while !admitted, ContinuousClock.now < deadline {
            attempt += 1
            let result = try await Self.slowRequest(.openai, base: gateway.base, key: gateway.key, id: "req_cc_after\(attempt)")
            admitted = result.status == 200
            if !admitted { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(admitted, "the slot of the hung-up stream was never released")
        await gateway.stop()
        try await Seed.inspect(gateway.data) { ledger in
            let events = try ledger.log.events(requestID: "req_cc_hangup").map(\.event)
            let settled = events.compactMap { event -> ChargeSettled? in if case .chargeSettled(let s) = event { s } else { nil } }
            #expect(settled.first?.status == 499, "\(events)")
            let busy = try ledger.log.events(requestID: "req_cc_busy")
            #expect(busy.isEmpty)
        }
    }
}
