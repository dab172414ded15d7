import Foundation
import NIOHTTP1
import Testing

/// Three `tally serve --cluster` processes of one cluster on loopback: `a`
/// seeded (group, prices, the admin with its balance, the channels, a
/// token), `b` and `c` started on empty data directories, so everything they
/// know they copied from the others' streams. A channel's upstream key never
/// enters the log (it is sealed per data directory), so it is set on `b` and
/// `c` through their own API, as an operator would.
struct ClusterNodes {
    static let adminKey = "tk-" + String(repeating: "a", count: 40)
    static let admin = [("Authorization", "Bearer \(adminKey)")]

    let url: String
    let seeded: Seeded
    let nodes: [ServerProcess]

    var a: ServerProcess { nodes[0] }
    var b: ServerProcess { nodes[1] }
    var c: ServerProcess { nodes[2] }

    /// `postgres`: a server of the test's own (default the shared one).
    static func start(mock: MockServer, balance: Int64 = 1_000_000_000, postgres: String? = nil) async throws -> ClusterNodes {
        let url = try ClusterTests.initialisedCluster(on: postgres)
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL, balance: balance)
        let a = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "a"])
        guard try await ClusterTests.caughtUp(url, node: "a", data: data) else { throw HarnessError("node a did not ship its seed") }
        var nodes = [a]
        for name in ["b", "c"] {
            let node = try await ServerProcess(data: Seed.directory(), arguments: ["--cluster", url, "--node", name])
            try await setChannelKeys(on: node)
            nodes.append(node)
        }
        return ClusterNodes(url: url, seeded: seeded, nodes: nodes)
    }

    /// Sets the upstream key of every channel on `node` (keys are sealed per data directory, never copied).
    static func setChannelKeys(on node: ServerProcess) async throws {
        let channels = try await HTTP.get(node.baseURL + "/api/channels", headers: admin)
        let ids = (channels.json?["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        guard ids.count == 3 else { throw HarnessError("\(node.baseURL) started without the cluster's channels: \(channels.text)") }
        for id in ids {
            let keyed = try await HTTP.send(
                node.baseURL + "/api/channels/\(id)", method: .PATCH, headers: admin + [("Content-Type", "application/json")],
                body: Data(#"{"key":"mock-key"}"#.utf8))
            guard keyed.status == 200 else { throw HarnessError("setting a channel key on \(node.baseURL): \(keyed.text)") }
        }
    }

    func stop() async {
        for node in nodes { await node.stop() }
    }

    /// A chat completion through `node` with `key` and the request id `id`.
    static func complete(_ node: ServerProcess, key: String, id: String) async throws -> HTTPResult {
        try await HTTP.post(
            node.baseURL + "/v1/chat/completions", headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", id)],
            json: ClusterTests.request)
    }

    /// Each node's projection digest (`GET /api/ledger/digest`).
    func digests() async throws -> [String] {
        var digests: [String] = []
        for node in nodes {
            digests.append(try await HTTP.get(node.baseURL + "/api/ledger/digest", headers: Self.admin).json?["digest"] as? String ?? "?")
        }
        return digests
    }

    /// Waits (up to `timeout`) until every node answers the same digest; the digests last answered.
    func convergedDigests(timeout: Duration = .seconds(10)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        var last = try await digests()
        while Set(last).count != 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            last = try await digests()
        }
        return last
    }

    /// The end of a cluster test: the projections converge, the nodes stop,
    /// `tally prune` and `tally close` refuse a node's log, and `verify --cluster` and every
    /// node's own `verify` find the books clean.
    func expectConvergedThenVerified(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let digests = try await convergedDigests()
        #expect(Set(digests).count == 1, "the projections should converge: \(digests)", sourceLocation: sourceLocation)
        await stop()
        // Pruning is single-node only: a node's stream in PostgreSQL stays gap-free from event 1.
        let pruned = try TallyCommand.run(["prune", "--data", b.dataPath], errors: true)
        #expect(pruned.status != 0 && pruned.output.contains("cluster node"), "\(pruned.output)", sourceLocation: sourceLocation)
        // So is closing the books: a node's log holds every node's charges, and the record is PostgreSQL's.
        let closed = try TallyCommand.run(["close", "--data", b.dataPath, "--period", "2026-11"], errors: true)
        #expect(closed.status != 0 && closed.output.contains("cluster node"), "\(closed.output)", sourceLocation: sourceLocation)
        let verified = try TallyCommand.run(["verify", "--cluster", url])
        #expect(verified.status == 0, "\(verified.output)", sourceLocation: sourceLocation)
        for node in nodes {
            let local = try TallyCommand.run(["verify", "--data", node.dataPath])
            #expect(local.status == 0, "\(node.dataPath): \(local.output)", sourceLocation: sourceLocation)
        }
    }

    /// Polls `condition` every 20 ms for up to `timeout`; the time it took to hold, or nil.
    static func within(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if try await condition() { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
