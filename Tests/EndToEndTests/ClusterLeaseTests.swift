import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// Escrow leases (Docs/cluster.md, "Escrow leases"): three real nodes on real
/// PostgreSQL spend one capped token's quota, or one user's balance, together and never past it.
@Suite(.serialized) struct ClusterLeaseTests {
    /// The overspend attack: a token whose quota covers 100 requests, 600
    /// requests in two bursts of 300 at once spread over `a`, `b` and `c`
    /// (each node alone sees 100 at once, as much as the whole quota). Every
    /// answer is a 200 or a 429 `insufficient_quota`; once converged, every
    /// node shows the same `used`, which is exactly the 200s' charges and at
    /// most the quota (the mock's usage never exceeds a reservation, so the
    /// bound has no overage); once idle every lease granted is returned; the
    /// streams and every node's log verify.
    @Test func nodesTogetherNeverSpendPastAQuota() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)

        // What one request charges, on an uncapped token.
        let probe = try await Self.token(on: cluster.a, ["name": "probe"])
        #expect(try await ClusterNodes.complete(cluster.a, key: probe.key, id: "probe").status == 200)
        let charge = try await Self.used(cluster.a, probe.id)
        #expect(charge > 0, "a request should cost something")

        let quota = 20 * charge
        let scarce = try await Self.token(on: cluster.a, ["name": "scarce", "quota": quota])
        for node in [cluster.b, cluster.c] {
            let known = try await ClusterNodes.within(.seconds(20)) {
                try await HTTP.get(node.baseURL + "/api/tokens/\(scarce.id)", headers: ClusterNodes.admin).status == 200
            }
            #expect(known != nil, "the token should reach every node")
        }

        let (served, refused) = try await Self.bursts(cluster, key: scarce.key, name: "quota")
        print("token leases: \(served) served, \(refused) refused, quota \(quota) = 20 requests of \(charge)")
        #expect(served > 0)

        // Converged: every node counts every node's charges.
        let agreed = try await ClusterNodes.within(.seconds(20)) {
            var seen: Set<Int64> = []
            for node in cluster.nodes { seen.insert(try await Self.used(node, scarce.id)) }
            return seen == [Int64(served) * charge]
        }
        var used: [Int64] = []
        for node in cluster.nodes { used.append(try await Self.used(node, scarce.id)) }
        #expect(agreed != nil, "every node should show each 200 charged once: \(used), \(served) × \(charge)")
        #expect(used.allSatisfy { $0 <= quota }, "the cluster spent \(used) of a quota of \(quota)")

        // Idle for longer than a lease is kept: every lease granted comes back.
        let returned = try await ClusterNodes.within(.seconds(30)) {
            let leases = try await Self.openLeases(cluster.a)
            return leases.granted > 0 && leases.open.isEmpty
        }
        let leases = try await Self.openLeases(cluster.a)
        #expect(returned != nil, "every lease should be returned once idle; open: \(leases.open)")
        #expect(leases.granted > 0)

        try await cluster.expectConvergedThenVerified()
    }

    /// The same attack on a user's balance (an uncapped token, so only the
    /// lease on its owner's balance stands in the way): a user credited for
    /// 100 requests, 600 requests in two bursts over the three nodes. Once
    /// converged every node shows the same balance, which is the credit less
    /// exactly the 200s' charges and never below zero (the mock's usage never
    /// exceeds a reservation: no overage); once idle every lease is returned;
    /// everything verifies, `verify --cluster`'s bound on each user's charges included.
    @Test func nodesTogetherNeverSpendPastABalance() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)

        let probe = try await Self.token(on: cluster.a, ["name": "probe"])
        #expect(try await ClusterNodes.complete(cluster.a, key: probe.key, id: "probe").status == 200)
        let charge = try await Self.used(cluster.a, probe.id)
        #expect(charge > 0, "a request should cost something")

        let credit = 100 * charge
        let user = try await HTTP.post(cluster.a.baseURL + "/api/users", headers: ClusterNodes.admin, json: ["username": "frugal"])
        let userID = try #require(user.json?["id"] as? String, "\(user.text)")
        let accessKey = try #require(user.json?["access_key"] as? String)
        let credited = try await HTTP.post(
            cluster.a.baseURL + "/api/users/\(userID)/credit", headers: ClusterNodes.admin, json: ["amount": credit, "note": "100 requests"])
        #expect(credited.status == 200, "\(credited.text)")
        let created = try await HTTP.post(
            cluster.a.baseURL + "/api/tokens", headers: [("Authorization", "Bearer \(accessKey)")], json: ["name": "uncapped"])
        let key = try #require(created.json?["key"] as? String, "\(created.text)")
        for node in [cluster.b, cluster.c] {
            let known = try await ClusterNodes.within(.seconds(20)) { try await Self.balance(node, userID) == credit }
            #expect(known != nil, "the user's credit should reach every node")
        }

        let (served, refused) = try await Self.bursts(cluster, key: key, name: "balance")
        print("user leases: \(served) served, \(refused) refused, balance \(credit) = 100 requests of \(charge)")
        #expect(served > 0)

        let agreed = try await ClusterNodes.within(.seconds(20)) {
            var seen: Set<Int64> = []
            for node in cluster.nodes { seen.insert(try await Self.balance(node, userID)) }
            return seen == [credit - Int64(served) * charge]
        }
        var balances: [Int64] = []
        for node in cluster.nodes { balances.append(try await Self.balance(node, userID)) }
        #expect(agreed != nil, "every node should show each 200 charged once: \(balances), \(credit) − \(served) × \(charge)")
        #expect(balances.allSatisfy { $0 >= 0 }, "the cluster overspent a balance of \(credit): \(balances)")

        let returned = try await ClusterNodes.within(.seconds(30)) {
            let leases = try await Self.openLeases(cluster.a)
            return leases.granted > 0 && leases.open.isEmpty
        }
        let leases = try await Self.openLeases(cluster.a)
        #expect(returned != nil, "every lease should be returned once idle; open: \(leases.open)")

        try await cluster.expectConvergedThenVerified()
    }

    /// Two bursts of 300 requests at once with `key`, spread over the three
    /// nodes (each node alone sees 100 at once); the 200s and the 429s
    /// `insufficient_quota` (any other answer is an issue).
    static func bursts(_ cluster: ClusterNodes, key: String, name: String) async throws -> (served: Int, refused: Int) {
        // Its own client: the shared one keeps 8 connections per node, which would queue the bursts.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 300
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var served = 0
        var refused = 0
        for burst in 0..<2 {
            // The connections opened first, so the burst's requests arrive together, not one connect after another.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        _ = try await HTTP.send(cluster.nodes[index % 3].baseURL + "/healthz", method: .GET, headers: [], body: nil, client: client)
                    }
                }
                try await group.waitForAll()
            }
            let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        try await HTTP.post(
                            cluster.nodes[index % 3].baseURL + "/v1/chat/completions",
                            headers: [("Authorization", "Bearer \(key)"), ("X-Request-Id", "\(name)_\(burst)_\(index)")],
                            json: ClusterTests.request, client: client)
                    }
                }
                return try await group.reduce(into: [HTTPResult]()) { $0.append($1) }
            }
            for answer in answers {
                switch answer.status {
                case 200: served += 1
                case 429:
                    refused += 1
                    #expect(answer.text.contains("insufficient_quota"), "\(answer.text)")
                default: Issue.record("\(name) burst \(burst): unexpected \(answer.status) \(answer.text)")
                }
            }
        }
        try await client.shutdown()
        return (served, refused)
    }

    /// The user's `balance` as `node` knows it.
    static func balance(_ node: ServerProcess, _ user: String) async throws -> Int64 {
        let answer = try await HTTP.get(node.baseURL + "/api/users/\(user)", headers: ClusterNodes.admin)
        return (answer.json?["balance"] as? NSNumber)?.int64Value ?? -1
    }

    /// Creates a token through `node`; its id and key.
    static func token(on node: ServerProcess, _ body: [String: Any]) async throws -> (id: String, key: String) {
        let created = try await HTTP.post(node.baseURL + "/api/tokens", headers: ClusterNodes.admin, json: body)
        guard created.status == 201, let id = created.json?["id"] as? String, let key = created.json?["key"] as? String else {
            throw HarnessError("creating a token: \(created.text)")
        }
        return (id, key)
    }

    /// The token's `used` as `node` knows it.
    static func used(_ node: ServerProcess, _ token: String) async throws -> Int64 {
        let answer = try await HTTP.get(node.baseURL + "/api/tokens/\(token)", headers: ClusterNodes.admin)
        return (answer.json?["used"] as? NSNumber)?.int64Value ?? -1
    }

    /// The leases `node`'s log shows granted, and those not returned.
    static func openLeases(_ node: ServerProcess) async throws -> (granted: Int, open: Set<String>) {
        var granted: Set<String> = []
        var returned: Set<String> = []
        var after = "0"
        while true {
            let page = try await HTTP.get(
                node.baseURL + "/api/events?type=lease.granted,lease.returned&after=\(after)&limit=1000", headers: ClusterNodes.admin)
            for event in page.json?["data"] as? [[String: Any]] ?? [] {
                guard let lease = (event["payload"] as? [String: Any])?["lease"] as? String else { continue }
                if event["type"] as? String == "lease.granted" { granted.insert(lease) } else { returned.insert(lease) }
            }
            guard let next = page.json?["next_cursor"] as? String else { break }
            after = next
        }
        return (granted.count, granted.subtracting(returned))
    }
}
