import Foundation
import Testing

/// One client request id sent to two nodes at once (three real processes,
/// real PostgreSQL): both nodes serve and charge their request, each node
/// keeps both requests, the other's under the id and its stream's name
/// (Docs/cluster.md, "Request ids in a cluster"), and tailing goes on.
@Suite(.serialized) struct ClusterRequestIDTests {
    /// `id`'s rows in `node`'s request logs.
    static func rows(_ node: ServerProcess, request id: String) async throws -> [[String: Any]] {
        let query = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
        let answer = try await HTTP.get(node.baseURL + "/api/logs?request=\(query)", headers: ClusterNodes.admin)
        return answer.json?["data"] as? [[String: Any]] ?? []
    }

    /// Five rounds of one `X-Request-Id` posted in parallel to `a` and `b`
    /// (once to all three nodes; the first two rounds on a slow model, so the
    /// reservations are open when the copies meet), then a request on each of
    /// `a` and `b` that must reach the other nodes: tailing never stops. Every
    /// request of a round is in every node's logs — a node that served the id
    /// holds its own under it and each other's under `id node:NAME` — the
    /// projections converge, and `verify` passes on every node and on the
    /// cluster.
    @Test func oneRequestIDOnTwoNodesAtOnceKeepsTailing() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        let names = ["a", "b", "c"]
        let key = cluster.seeded.key
        var served: [(id: String, nodes: [Int])] = []
        for round in 0..<5 {
            let id = "twice_\(round)"
            let model = round < 2 ? "mock-slow" : "mock-gpt"
            let targets = round == 1 ? [0, 1, 2] : [0, 1]
            let answers = try await withThrowingTaskGroup(of: (Int, HTTPResult).self) { group in
                for index in targets {
                    group.addTask {
                        let answer = try await HTTP.post(
                            cluster.nodes[index].baseURL + "/v1/chat/completions",
                            headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", id)],
                            json: ["model": model, "max_tokens": 4, "messages": [["role": "user", "content": "one two three"]]])
                        return (index, answer)
                    }
                }
                return try await group.reduce(into: [Int: HTTPResult]()) { $0[$1.0] = $1.1 }
            }
            // Within the propagation delay every node serves; one that had already copied another's use refuses (409).
            let statuses = answers.mapValues(\.status)
            #expect(statuses.values.contains(200), "round \(round): \(answers.mapValues(\.text))")
            #expect(Set(statuses.values).isSubset(of: [200, 409]), "round \(round): \(answers.mapValues(\.text))")
            if round < 2 { #expect(statuses.values.allSatisfy { $0 == 200 }, "round \(round) overlaps: every node serves its request") }
            served.append((id, statuses.filter { $0.value == 200 }.keys.sorted()))
        }

        for (from, id) in [(0, "later_on_a"), (1, "later_on_b")] {
            #expect(try await ClusterNodes.complete(cluster.nodes[from], key: key, id: id).status == 200)
            for to in cluster.nodes.indices where to != from {
                let arrived = try await ClusterNodes.within(.seconds(20)) { try await !Self.rows(cluster.nodes[to], request: id).isEmpty }
                #expect(arrived != nil, "\(id) should reach \(names[to]): tailing must go on past the reused ids")
            }
        }

        for (id, nodes) in served {
            for index in cluster.nodes.indices {
                let node = cluster.nodes[index]
                let copies = nodes.filter { $0 != index }.map { id + " node:" + names[$0] }
                if nodes.contains(index) {
                    #expect(try await Self.rows(node, request: id).count == 1, "\(names[index]) keeps its own \(id) under the id")
                    for copy in copies {
                        #expect(try await Self.rows(node, request: copy).count == 1, "\(names[index]) keeps \"\(copy)\"")
                    }
                } else {
                    // A node that did not serve the id: whichever request it copied first keeps the id.
                    var held = try await Self.rows(node, request: id).count
                    for copy in copies { held += try await Self.rows(node, request: copy).count }
                    #expect(held == nodes.count, "\(names[index]) keeps every request of \(id)")
                }
            }
        }

        try await cluster.expectConvergedThenVerified()
    }
}
