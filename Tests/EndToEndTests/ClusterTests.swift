import Foundation
import LMDB
import Ledger
import Testing

/// Cluster mode against a real PostgreSQL 15 and real `tally` processes:
/// `cluster init|status`, a node shipping its log, `verify --cluster`, and the
/// refusals that keep a node's stream one node's.
@Suite(.serialized) struct ClusterTests {
    static var request: [String: Any] { ["model": "mock-gpt", "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]] }

    /// `tally cluster status --json` for `url`, decoded.
    static func status(_ url: String) throws -> [String: Any]? {
        let result = try TallyCommand.run(["cluster", "status", "--cluster", url, "--json"])
        guard result.status == 0 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
    }

    /// The node's `shipped_seq` and `shipped_hash` as `cluster status` reports them.
    static func shipped(_ url: String, node: String) throws -> (seq: UInt64, hash: String)? {
        let nodes = try status(url)?["nodes"] as? [[String: Any]] ?? []
        guard let row = nodes.first(where: { $0["name"] as? String == node }),
            let seq = (row["shipped_seq"] as? NSNumber)?.uint64Value, let hash = row["shipped_hash"] as? String
        else { return nil }
        return (seq, hash)
    }

    /// Waits (up to 10 s) until the node has shipped exactly the data directory's head; true when it did.
    static func caughtUp(_ url: String, node: String, data: String) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let head = try BackupTests.head(data)
            if let shipped = try shipped(url, node: node), shipped.seq == head.seq, shipped.hash == head.hash.hex { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// A cluster's database, initialised, on `server` (default the shared one).
    static func initialisedCluster(on server: String? = nil) throws -> String {
        let url = try server.map { try TestPostgres.database(on: $0) } ?? TestPostgres.database()
        let initialised = try TallyCommand.run(["cluster", "init", "--cluster", url])
        guard initialised.status == 0 else { throw HarnessError("cluster init failed: \(initialised.output)") }
        return url
    }

    /// Standard error of a `tally serve` that must refuse to start: it is
    /// expected to exit (status 2) within 30 s, and is killed if it does not.
    static func refusal(data: String, arguments: [String]) async throws -> String {
        let path = Seed.directory() + "/stderr"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = try TallyBinary.url
        process.arguments = ["serve", "--data", data, "--port", "\(try freePort())"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        try handle.close()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "the server should have refused to start")
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// `cluster init` creates the schema once and is safe to run again; `status` before it says to run it.
    @Test func initIsIdempotentAndStatusNeedsIt() async throws {
        let url = try TestPostgres.database()
        #expect(try TallyCommand.run(["cluster", "status", "--cluster", url]).status == 2)
        let first = try TallyCommand.run(["cluster", "init", "--cluster", url])
        #expect(first.status == 0)
        #expect(first.output.contains("schema version 2 (was 0)"), "\(first.output)")
        let again = try TallyCommand.run(["cluster", "init", "--cluster", url])
        #expect(again.status == 0)
        #expect(again.output.contains("nothing to do"), "\(again.output)")
        let status = try Self.status(url)
        #expect(status?["schema_version"] as? Int == 2)
        #expect((status?["nodes"] as? [Any])?.isEmpty == true)
        #expect(try TallyCommand.run(["verify", "--cluster", url]).status == 0)
    }

    /// A node ships every event of its log, gap-free and hash for hash, while it
    /// relays; `verify --cluster` checks the copy; a node killed with SIGKILL
    /// ships the rest of its log when it restarts.
    @Test func nodeShipsItsLogAndResumesAfterAKill() async throws {
        let url = try Self.initialisedCluster()
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let node = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "alpha"])
        for index in 0..<20 {
            let result = try await HTTP.post(
                node.baseURL + "/v1/chat/completions",
                headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "ship_\(index)")], json: Self.request)
            #expect(result.status == 200)
        }
        #expect(try await Self.caughtUp(url, node: "alpha", data: data), "the stream should reach the node's head")
        #expect(try Self.status(url).flatMap { ($0["nodes"] as? [[String: Any]])?.first?["state"] as? String } == "up")

        // Requests in flight, then SIGKILL: whatever was durable and not yet shipped goes at the next start.
        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        _ = try? await HTTP.post(
                            node.baseURL + "/v1/chat/completions",
                            headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "burst_\(index)")], json: Self.request)
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        await node.kill()
        await burst.value
        let restarted = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "alpha"])
        #expect(try await Self.caughtUp(url, node: "alpha", data: data), "the restarted node should ship its tail")
        await restarted.stop()
        #expect(try await Self.caughtUp(url, node: "alpha", data: data), "a graceful stop ships what it wrote while stopping")
        let verified = try TallyCommand.run(["verify", "--cluster", url])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("node:alpha: intact"), "\(verified.output)")
    }

    /// One name, one node: a second process under a running node's name is
    /// refused, and so is a data directory that is not the one the stream came from.
    @Test func aNodeNameBelongsToOneDataDirectory() async throws {
        let url = try Self.initialisedCluster()
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        _ = try await Seed.make(at: data, mock: mock.baseURL)
        let node = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "alpha"])
        #expect(try await Self.caughtUp(url, node: "alpha", data: data))

        let other = Seed.directory()
        _ = try await Seed.make(at: other, mock: mock.baseURL)
        let running = try await Self.refusal(data: other, arguments: ["--cluster", url, "--node", "alpha"])
        #expect(running.contains("another process is running as node alpha"), "\(running)")
        await node.stop()

        // The other directory's log is not alpha's: refused whether it is shorter or just different.
        let foreign = try await Self.refusal(data: other, arguments: ["--cluster", url, "--node", "alpha"])
        #expect(foreign.contains("node alpha"), "\(foreign)")
        let empty = try await Self.refusal(data: Seed.directory(), arguments: ["--cluster", url, "--node", "alpha"])
        #expect(empty.contains("it is not (or no longer) that node's data"), "\(empty)")

        let beta = try await ServerProcess(data: other, arguments: ["--cluster", url, "--node", "beta"])
        #expect(try await Self.caughtUp(url, node: "beta", data: other))
        await beta.stop()
        #expect(try TallyCommand.run(["verify", "--cluster", url]).status == 0)
        #expect(try TallyCommand.run(["cluster", "status", "--cluster", url]).output.contains("beta"))
    }

    /// Bad cluster settings are refused before anything starts.
    @Test func badClusterSettingsAreRefused() async throws {
        let data = Seed.directory()
        #expect(try TallyCommand.run(["serve", "--data", data, "--cluster", "postgres://x@127.0.0.1:1/db"]).status == 2)
        #expect(try TallyCommand.run(["serve", "--data", data, "--node", "alpha"]).status == 2)
        #expect(try TallyCommand.run(["serve", "--data", data, "--cluster", "mysql://x@h/db", "--node", "alpha"]).status == 2)
        #expect(try TallyCommand.run(["serve", "--data", data, "--cluster", "postgres://x@h/db", "--node", "Alpha!"]).status == 2)
        let uninitialised = try TestPostgres.database()
        let refused = try await Self.refusal(data: data, arguments: ["--cluster", uninitialised, "--node", "alpha"])
        #expect(refused.contains("tally cluster init"), "\(refused)")
    }
}

/// The failure table's "PostgreSQL unreachable" row, on a server of the test's own.
@Suite(.serialized) struct ClusterOutageTests {
    /// PostgreSQL stopped for a few seconds while the node relays: every
    /// request is still served and charged within the lease on the user's
    /// balance the node took under load before, and once PostgreSQL is back the
    /// stream catches up with the node's whole log.
    @Test func nodeRelaysThroughAnOutageAndShipsEverythingAfter() async throws {
        let postgres = try PrivatePostgres.start()
        defer { postgres.stop() }
        let url = try TestPostgres.database(on: postgres.url)
        #expect(try TallyCommand.run(["cluster", "init", "--cluster", url]).status == 0)
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let node = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "alpha"])
        #expect(try await ClusterTests.caughtUp(url, node: "alpha", data: data))
        // Under load first: the lease grows with the demand (about 30 s of it), well past the 20 requests below.
        for index in 0..<30 {
            let result = try await HTTP.post(
                node.baseURL + "/v1/chat/completions",
                headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "load_\(index)")], json: ClusterTests.request)
            #expect(result.status == 200, "\(result.text)")
        }
        try await Task.sleep(for: .milliseconds(500))

        try postgres.pause()
        let before = try BackupTests.head(data).seq
        for index in 0..<20 {
            let result = try await HTTP.post(
                node.baseURL + "/v1/chat/completions",
                headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "outage_\(index)")], json: ClusterTests.request)
            #expect(result.status == 200, "\(result.text)")
        }
        try await Task.sleep(for: .seconds(2))
        #expect(try BackupTests.head(data).seq >= before + 40, "each request reserved and settled locally")
        try postgres.resume()
        #expect(try await ClusterTests.caughtUp(url, node: "alpha", data: data), "the stream should catch up once PostgreSQL is back")
        await node.stop()
        #expect(try TallyCommand.run(["verify", "--cluster", url]).status == 0)
    }
}

/// The failure table's "node disk lost" row, as far as it is built.
@Suite(.serialized) struct ClusterRebuildTests {
    /// A node's data directory rebuilt from its stream verifies, holds the
    /// shipped head, and may run under the node's name again; a rebuild into
    /// a directory that holds a ledger is refused.
    @Test func lostNodeIsRebuiltFromItsStream() async throws {
        let url = try ClusterTests.initialisedCluster()
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let node = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "alpha"])
        for index in 0..<10 {
            let result = try await HTTP.post(
                node.baseURL + "/v1/chat/completions",
                headers: [("Authorization", "Bearer \(seeded.key)"), ("X-Request-Id", "lost_\(index)")], json: ClusterTests.request)
            #expect(result.status == 200)
        }
        await node.stop()
        #expect(try await ClusterTests.caughtUp(url, node: "alpha", data: data))
        let shipped = try BackupTests.head(data)

        let rebuilt = Seed.directory() + "/rebuilt"
        let result = try TallyCommand.run(["cluster", "rebuild", "--cluster", url, "--node", "alpha", "--data", rebuilt])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("head \(shipped.seq) \(shipped.hash.hex)"), "\(result.output)")
        #expect(try TallyCommand.run(["verify", "--data", rebuilt]).status == 0)
        #expect(try TallyCommand.run(["cluster", "rebuild", "--cluster", url, "--node", "alpha", "--data", rebuilt]).status == 2)
        #expect(try TallyCommand.run(["cluster", "rebuild", "--cluster", url, "--node", "nobody", "--data", Seed.directory()]).status == 2)

        let revived = try await ServerProcess(data: rebuilt, arguments: ["--cluster", url, "--node", "alpha"])
        let health = try await HTTP.get(revived.baseURL + "/healthz")
        await revived.stop()
        #expect(health.status == 200)
        #expect(try await ClusterTests.caughtUp(url, node: "alpha", data: rebuilt))
    }
}
