import Foundation
import LMDB
import Ledger
import Synchronization
import Testing

/// `tally backup` beside a serving `tally serve`, and `tally restore`.
@Suite(.serialized) struct BackupTests {
    /// The committed head of a data directory, read as `tally verify` does (read-only, beside the server).
    static func head(_ path: String) throws -> (seq: UInt64, hash: Hash256) {
        var options = EnvironmentOptions()
        options.readOnly = true
        return try LedgerStore(path: path, options: options).head()
    }

    /// Requests relayed until `stop` is set (bounded by `limit` each), over four connections.
    static func load(_ gateway: Gateway, prefix: String, limit: Int, stop: @escaping @Sendable () -> Bool) -> Task<Int, Never> {
        let base = gateway.base
        let key = gateway.key
        return Task {
            await withTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var served = 0
                        for index in 0..<limit where !stop() {
                            let result = try? await HTTP.post(
                                base + "/v1/chat/completions",
                                headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", "\(prefix)_\(worker)_\(index)")],
                                json: ["model": "mock-gpt", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]])
                            if result?.status == 200 { served += 1 }
                        }
                        return served
                    }
                }
                return await group.reduce(0, +)
            }
        }
    }

    /// A backup taken while requests are relayed verifies, restores to a ledger
    /// that verifies, whose head is at least the head when the backup started,
    /// and that a server opens and relays from (the master key came along).
    @Test func backupDuringLoadRestoresAVerifiedLedger() async throws {
        let gateway = try await Gateway.start()
        let stopped = Flag()
        let load = Self.load(gateway, prefix: "load", limit: 400, stop: { stopped.isSet })
        let seeded = try Self.head(gateway.data).seq
        let deadline = ContinuousClock.now + .seconds(20)
        while try Self.head(gateway.data).seq < seeded + 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }

        let atStart = try Self.head(gateway.data)
        let backup = Seed.directory() + "/backup"
        let made = try TallyCommand.run(["backup", "--data", gateway.data, "--out", backup])
        // The load goes on after the backup: it ran beside a server that was relaying before, during and after it.
        while try Self.head(gateway.data).seq < atStart.seq + 20, ContinuousClock.now < deadline + .seconds(20) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let afterBackup = try Self.head(gateway.data).seq
        stopped.set()
        let served = await load.value
        await gateway.server.stop()
        #expect(made.status == 0, "\(made.output)")
        #expect(made.output.contains("head "), "\(made.output)")
        #expect(afterBackup >= atStart.seq + 20, "the server kept relaying around the backup")
        #expect(served > 0)
        #expect(try TallyCommand.run(["verify", "--data", backup]).status == 0)

        let restored = Seed.directory()
        let restore = try TallyCommand.run(["restore", "--from", backup, "--data", restored])
        #expect(restore.status == 0, "\(restore.output)")
        let head = try Self.head(restored)
        #expect(head.seq >= atStart.seq)
        #expect(restore.output.contains("head \(head.seq) \(head.hash.hex)"), "\(restore.output)")
        #expect(try TallyCommand.run(["verify", "--data", restored]).status == 0)

        let server = try await ServerProcess(data: restored)
        let relayed = try await HTTP.post(
            server.baseURL + "/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": "mock-gpt", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]])
        await server.stop()
        gateway.mock.stop()
        #expect(relayed.status == 200, "\(relayed.text)")
    }

    /// Restore refuses a directory a server holds and one that is not empty
    /// (unless --force), and changes nothing when it refuses; backup refuses an existing output.
    @Test func restoreRefusesLiveAndNonEmptyDirectories() async throws {
        let gateway = try await Gateway.start()
        let backup = Seed.directory() + "/backup"
        #expect(try TallyCommand.run(["backup", "--data", gateway.data, "--out", backup]).status == 0)
        #expect(try TallyCommand.run(["backup", "--data", gateway.data, "--out", backup]).status == 2)
        let relayed = try await HTTP.post(
            gateway.base + "/v1/chat/completions", headers: [("Authorization", "Bearer \(gateway.key)")],
            json: ["model": "mock-gpt", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]])
        #expect(relayed.status == 200)
        let live = try Self.head(gateway.data)
        #expect(try TallyCommand.run(["restore", "--from", backup, "--data", gateway.data, "--force"]).status == 2)
        await gateway.stop()
        let stopped = try Self.head(gateway.data)
        #expect(stopped.seq >= live.seq, "a refused restore replaced nothing (stopping may add events)")

        #expect(try TallyCommand.run(["restore", "--from", backup, "--data", gateway.data]).status == 2)
        #expect(try Self.head(gateway.data).hash == stopped.hash)
        let forced = try TallyCommand.run(["restore", "--from", backup, "--data", gateway.data, "--force"])
        #expect(forced.status == 0, "\(forced.output)")
        #expect(try Self.head(gateway.data).hash == Self.head(backup).hash)
        #expect(try Self.head(gateway.data).seq < stopped.seq, "the request after the backup is gone with --force")
        #expect(try TallyCommand.run(["restore", "--from", Seed.directory(), "--data", Seed.directory()]).status == 2)
    }
}

/// A flag one task sets and others poll.
final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
