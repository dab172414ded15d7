import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import LMDB
import Ledger
import Logging
import NIOCore
import Relay
import TallyServer
import Testing

/// The server's ledger services, in-process around a ledger the test holds:
/// the sweeper expires a reservation older than the request deadline plus its
/// grace and leaves a younger one; the snapshot service writes a snapshot every
/// `snapshotEvery` events while requests are served.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LedgerServicesTests {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)

    @Test func theSweeperExpiresOnlyReservationsOlderThanTheDeadlinePlusGrace() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let ledger = try Ledger(path: data, logger: Logger(label: "sweep"))
        // Leaks are reservations older than 1 s (deadline) + 1 s (grace); a sweep every 250 ms.
        var configuration = ServerConfiguration(dataPath: data, port: 0, relay: RelayConfiguration(maxRequestDuration: .seconds(1)))
        configuration.sweepGrace = .seconds(1)
        configuration.sweepInterval = .milliseconds(250)
        let app = try await buildApplication(configuration, ledger: ledger, logger: Logger(label: "sweep"))
        try await app.test(.live) { client in
            // A reservation nobody will close, as a bug in the relay would leave it.
            // Taken before the call: the event's time is stamped inside it, so the age measured here is never short.
            let reserved = ContinuousClock.now
            _ = try await ledger.reserve(requestID: "leaked", token: seeded.token, model: "mock-gpt", amount: 10, stream: true)
            while await ledger.read({ $0.pending["leaked"] != nil }) {
                guard ContinuousClock.now - reserved < .seconds(10) else { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let age = ContinuousClock.now - reserved
            #expect(await ledger.read { $0.pending["leaked"] == nil }, "expired within 10 s")
            #expect(age >= .milliseconds(1500), "not before it was 2 s old: \(age)")

            _ = try await ledger.reserve(requestID: "young", token: seeded.token, model: "mock-gpt", amount: 10, stream: true)
            try await Task.sleep(for: .seconds(1))  // four sweeps; "young" stays 1 s short of the bound
            #expect(await ledger.read { $0.pending["young"] != nil }, "a reservation younger than the bound is left alone")

            let expired = try ledger.log.events(requestID: "leaked").compactMap { envelope -> ChargeExpired? in
                if case .chargeExpired(let e) = envelope.event { e } else { nil }
            }
            #expect(expired.map(\.policy) == [.void], "under the default --dangling-policy")
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(Self.adminKey)"]) {
                String(buffer: $0.body)
            }
            #expect(metrics.contains("tally_reservations_swept_total{policy=\"void\"}"), "counted")
            #expect(metrics.contains("tally_sweeps_expiring_total"))
        }
    }

    @Test func theSnapshotServiceWritesASnapshotEverySnapshotEveryEvents() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        var ledgerConfiguration = LedgerConfiguration()
        ledgerConfiguration.snapshotEvery = 10
        let ledger = try Ledger(path: data, configuration: ledgerConfiguration, logger: Logger(label: "snapshots"))
        let store = ledger.store
        let before = try SnapshotStore.list(store: store)
        let app = try await buildApplication(ServerConfiguration(dataPath: data, port: 0), ledger: ledger, logger: Logger(label: "snapshots"))
        let chat = ByteBuffer(string: #"{"model":"mock-gpt","max_tokens":2,"messages":[{"role":"user","content":"a b"}]}"#)
        try await app.test(.live) { client in
            // Six requests: a reservation and a settle each, twelve events.
            for _ in 0..<6 {
                let status = try await client.execute(
                    uri: "/v1/chat/completions", method: .post,
                    headers: [.authorization: "Bearer \(seeded.key)", .contentType: "application/json"],
                    body: chat
                ) { $0.status.code }
                #expect(status == 200)
            }
            let head = await ledger.read { $0.seq }
            let waited = ContinuousClock.now
            while try SnapshotStore.list(store: store).count == before.count, ContinuousClock.now - waited < .seconds(10) {
                try await Task.sleep(for: .milliseconds(100))
            }
            let written = try SnapshotStore.list(store: store).filter { !before.contains($0) }
            #expect(written.count == 1, "one snapshot for twelve events at snapshotEvery 10: \(written)")
            if let seq = written.last {
                #expect(seq >= head - 2 && seq <= head, "taken at the threshold's upkeep tick (head \(head), snapshot \(seq))")
                #expect(try SnapshotStore.read(store: store, seq: seq).seq == seq)
            }
        }
    }
}
