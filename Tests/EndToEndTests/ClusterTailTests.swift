import Foundation
import Testing

/// Cluster tailing: every node copies the others' streams into its own log,
/// so whatever one node does, every node knows (three real processes, real
/// PostgreSQL).
@Suite(.serialized) struct ClusterTailTests {
    /// A token created through `a` authenticates on `b` and `c`; requests
    /// served by `c` show in `b`'s request logs and usage; the three nodes'
    /// projections converge to one digest; every stream and every node's own
    /// log verifies afterwards.
    @Test func everyNodeSeesWhatAnyNodeDid() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)

        let created = try await HTTP.post(cluster.a.baseURL + "/api/tokens", headers: ClusterNodes.admin, json: ["name": "made-on-a"])
        #expect(created.status == 201, "\(created.text)")
        let key = try #require(created.json?["key"] as? String)
        let tokenID = try #require(created.json?["id"] as? String)
        for node in [cluster.b, cluster.c] {
            let took = try await ClusterNodes.within(.seconds(20)) {
                try await ClusterNodes.complete(node, key: key, id: "probe_\(node.port)_\(UUID().uuidString)").status == 200
            }
            #expect(took != nil, "the token created on a should authenticate on every node")
        }

        for index in 0..<5 {
            let served = try await ClusterNodes.complete(cluster.c, key: key, id: "from_c_\(index)")
            #expect(served.status == 200, "\(served.text)")
        }
        let shown = try await ClusterNodes.within(.seconds(20)) {
            let rows = try await HTTP.get(cluster.b.baseURL + "/api/logs?request=from_c_4", headers: ClusterNodes.admin).json?["data"]
            return (rows as? [Any])?.isEmpty == false
        }
        #expect(shown != nil, "a request served by c should show in b's logs")
        func usage(_ node: ServerProcess) async throws -> Int {
            let rows = try await HTTP.get(node.baseURL + "/api/usage?token=\(tokenID)", headers: ClusterNodes.admin).json?["data"]
            return (rows as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        }
        let agreed = try await ClusterNodes.within(.seconds(20)) {
            let counts = [try await usage(cluster.a), try await usage(cluster.b), try await usage(cluster.c)]
            return counts.allSatisfy { $0 == counts[0] } && counts[0] >= 7
        }
        #expect(agreed != nil, "every node's usage should count the requests every node served")

        try await cluster.expectConvergedThenVerified()
    }

    /// A node stopped while the others work catches up when it comes back,
    /// copying each event once: the digests converge again.
    @Test func aNodeBackFromAStopCatchesUpOnce() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        await cluster.b.stop()
        for index in 0..<10 {
            #expect(try await ClusterNodes.complete(cluster.c, key: cluster.seeded.key, id: "while_b_away_\(index)").status == 200)
        }
        let credited = try await HTTP.post(
            cluster.a.baseURL + "/api/users/\(cluster.seeded.admin)/credit", headers: ClusterNodes.admin, json: ["amount": 1_000])
        #expect(credited.status == 200, "\(credited.text)")
        let back = try await ServerProcess(data: cluster.b.dataPath, arguments: ["--cluster", cluster.url, "--node", "b"])
        let again = ClusterNodes(url: cluster.url, seeded: cluster.seeded, nodes: [cluster.a, back, cluster.c])
        let digests = try await again.convergedDigests()
        #expect(Set(digests).count == 1, "b should catch up: \(digests)")
        await again.stop()
        #expect(try TallyCommand.run(["verify", "--cluster", cluster.url]).status == 0)
    }

    /// A node whose data directory was lost: started on an empty directory
    /// under its name it is refused; with `--rebuild` it rebuilds from its
    /// stream, serves under its name (once its channel keys are set again),
    /// copies what it missed, and the projections of all three converge.
    @Test func aNodeWhoseDiskWasLostRefusesUntilRebuilt() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        for index in 0..<5 {
            #expect(try await ClusterNodes.complete(cluster.b, key: cluster.seeded.key, id: "on_b_\(index)").status == 200)
        }
        await cluster.b.stop()
        try FileManager.default.removeItem(atPath: cluster.b.dataPath)
        for index in 0..<5 {
            #expect(try await ClusterNodes.complete(cluster.c, key: cluster.seeded.key, id: "b_lost_\(index)").status == 200)
        }
        let refused = try await ClusterTests.refusal(data: cluster.b.dataPath, arguments: ["--cluster", cluster.url, "--node", "b"])
        #expect(refused.contains("it is not (or no longer) that node's data"), "\(refused)")

        let rebuilt = try await ServerProcess(data: cluster.b.dataPath, arguments: ["--cluster", cluster.url, "--node", "b", "--rebuild"])
        let again = ClusterNodes(url: cluster.url, seeded: cluster.seeded, nodes: [cluster.a, rebuilt, cluster.c])
        try await ClusterNodes.setChannelKeys(on: rebuilt)
        #expect(try await ClusterNodes.complete(rebuilt, key: cluster.seeded.key, id: "b_rebuilt").status == 200)
        let digests = try await again.convergedDigests()
        #expect(Set(digests).count == 1, "\(digests)")
        let rows = try await HTTP.get(rebuilt.baseURL + "/api/logs?request=on_b_4", headers: ClusterNodes.admin).json?["data"] as? [Any]
        #expect(rows?.isEmpty == false, "the rebuilt node holds what it had served")
        await again.stop()
        #expect(try TallyCommand.run(["verify", "--cluster", cluster.url]).status == 0)
        #expect(try TallyCommand.run(["verify", "--data", cluster.b.dataPath]).status == 0)
    }

    /// A node killed (SIGKILL) while it relays, then restarted: it resolves
    /// the reservations it left open by events of its own, ships its tail
    /// gap-free, and the other nodes' copies of those reservations close with
    /// them, so the three projections converge with nothing left open.
    @Test func aNodeKilledUnderLoadRestartsAndTheClusterConverges() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        let burst = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<30 {
                    // mock-slow answers after 1.5 s: every one is in flight at the kill.
                    group.addTask {
                        _ = try? await HTTP.post(
                            cluster.b.baseURL + "/v1/chat/completions",
                            headers: [("Authorization", "Bearer \(cluster.seeded.key)"), ("X-Request-Id", "killed_\(index)")],
                            json: ["model": "mock-slow", "max_tokens": 4, "messages": [["role": "user", "content": "slow"]]])
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(700))
        await cluster.b.kill()
        // A request the client had queued when the server died would wait for its 60 s timeout.
        burst.cancel()
        await burst.value
        let back = try await ServerProcess(data: cluster.b.dataPath, arguments: ["--cluster", cluster.url, "--node", "b"])
        let again = ClusterNodes(url: cluster.url, seeded: cluster.seeded, nodes: [cluster.a, back, cluster.c])
        let digests = try await again.convergedDigests()
        #expect(Set(digests).count == 1, "\(digests)")
        for node in again.nodes {
            let token = try await HTTP.get(node.baseURL + "/api/tokens/\(cluster.seeded.token)", headers: ClusterNodes.admin)
            #expect(token.json?["reserved"] as? Int == 0, "nothing may stay reserved on \(node.baseURL): \(token.text)")
        }
        await again.stop()
        #expect(try await ClusterTests.caughtUp(cluster.url, node: "b", data: cluster.b.dataPath), "b's stream should hold its whole log")
        let verified = try TallyCommand.run(["verify", "--cluster", cluster.url])
        #expect(verified.status == 0, "\(verified.output)")
    }
}
