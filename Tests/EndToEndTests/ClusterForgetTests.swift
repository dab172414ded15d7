import Foundation
import Testing

/// Frozen leases and `tally cluster forget` (Docs/cluster.md, "Frozen leases
/// and forgetting a lost node"), and the stray lease a killed node returns at
/// restart: real PostgreSQL, real `tally` processes, SIGKILL.
@Suite(.serialized) struct ClusterForgetTests {
    /// Two nodes SIGKILLed while each holds a lease on its own capped token
    /// (quota: one reservation, one charge and one credit, so whoever holds a
    /// lease of a reservation or more leaves less than a reservation free). Their leases stay counted — `a`
    /// refuses both tokens — and `cluster status` lists them. `forget` refuses an
    /// unknown node, a live one and a bad policy, writing nothing. `--policy void`
    /// on `c` reports what `c` shipped and frees the rest (`a` serves its token
    /// again); `--policy settle-leased` on `b` counts the whole lease spent and
    /// frees nothing (`a` still refuses). Each node also holds a lease on the
    /// tokens' owner's balance (the admin's, far from exhausted): forgotten with
    /// the node, shipped and spent what the node charged the owner. Then `b`'s old directory, holding
    /// events its stream never got, is refused under its name; an empty one
    /// with `--rebuild` starts; the projections converge and `verify --cluster` is clean.
    @Test func aLostNodesLeasesStayFrozenUntilForgotten() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        let (charge, reservation) = try await Self.probe(cluster.a)
        #expect(reservation > charge + 1, "the test needs a reservation above the charge: \(reservation), \(charge)")
        let quota = reservation + charge + 1
        let onC = try await ClusterLeaseTests.token(on: cluster.a, ["name": "on-c", "quota": quota])
        let onB = try await ClusterLeaseTests.token(on: cluster.a, ["name": "on-b", "quota": quota])
        for node in [cluster.b, cluster.c] {
            let known = try await ClusterNodes.within(.seconds(20)) {
                try await HTTP.get(node.baseURL + "/api/tokens/\(onB.id)", headers: ClusterNodes.admin).status == 200
            }
            #expect(known != nil, "the tokens should reach every node")
        }
        #expect(try await ClusterNodes.complete(cluster.c, key: onC.key, id: "on-c").status == 200)
        #expect(try await ClusterNodes.complete(cluster.b, key: onB.key, id: "on-b").status == 200)
        // Shipped and copied: `a` counts both charges.
        let copied = try await ClusterNodes.within(.seconds(20)) {
            let usedC = try await ClusterLeaseTests.used(cluster.a, onC.id)
            let usedB = try await ClusterLeaseTests.used(cluster.a, onB.id)
            return usedC == charge && usedB == charge
        }
        #expect(copied != nil, "a should have copied both charges")
        await cluster.c.kill()
        await cluster.b.kill()

        // Frozen: listed with their credits, and still counted by the others.
        let frozen = try Self.status(cluster.url)
        // (a holds a balance lease of its own, from the probe.)
        let lost = frozen.leases.filter { $0["node"] as? String != "a" }
        #expect(lost.count == 4, "a token lease and a balance lease on each of b and c: \(frozen.leases)")
        // Each token lease is one reservation, or two when a top-up raced the reservation's commit; the figures below hold for either.
        var leased: [String: Int64] = [:]
        for (name, token) in [("c", onC.id), ("b", onB.id)] {
            let mine = frozen.leases.filter { $0["node"] as? String == name }
            let credits = Self.number(mine.first { $0["token"] as? String == token }?["credits"]) ?? 0
            leased[name] = credits
            #expect(credits == reservation || credits == 2 * reservation, "\(mine)")
            #expect(mine.count == 2 && mine.contains { $0["token"] is NSNull }, "a token lease and a balance lease: \(mine)")
            #expect(Self.number(frozen.nodes[name]?["open_leases"]) == 2, "\(frozen.nodes)")
            let all = mine.reduce(Int64(0)) { $0 + (Self.number($1["credits"]) ?? 0) }
            #expect(Self.number(frozen.nodes[name]?["leased_credits"]) == all, "\(frozen.nodes)")
        }
        let leasedC = leased["c"] ?? 0
        let leasedB = leased["b"] ?? 0
        for token in [onC, onB] {
            let refused = try await ClusterNodes.complete(cluster.a, key: token.key, id: "frozen-\(token.id)")
            #expect(refused.status == 429 && refused.text.contains("insufficient_quota"), "\(refused.status) \(refused.text)")
        }

        // Refused, nothing written.
        let unknown = try Self.forget("zz", "void", cluster.url)
        #expect(unknown.status == 2 && unknown.output.contains("no node zz"), "\(unknown.output)")
        let live = try Self.forget("a", "void", cluster.url)
        #expect(live.status == 2 && live.output.contains("node a is running"), "\(live.output)")
        let badPolicy = try Self.forget("c", "keep", cluster.url)
        #expect(badPolicy.status != 0 && badPolicy.output.contains("--policy"), "\(badPolicy.output)")
        #expect(try Self.status(cluster.url).leases.count == frozen.leases.count, "a refused forget must close nothing")

        // void: what c shipped is what it spent; the rest goes back to the pool.
        let voided = try Self.forgetJSON("c", "void", cluster.url)
        let voidedLeases = voided["leases"] as? [[String: Any]] ?? []
        let voidedLease = voidedLeases.first { $0["token"] as? String == onC.id } ?? [:]
        #expect(voidedLeases.count == 2, "\(voided)")
        #expect(Self.number(voidedLease["leased"]) == leasedC && Self.number(voidedLease["shipped"]) == charge)
        #expect(Self.number(voidedLease["spent"]) == charge && Self.number(voidedLease["freed"]) == leasedC - charge)
        // c charged the owner's balance once too: its balance lease shipped and spent that one charge.
        let voidedBalance = voidedLeases.first { $0["token"] is NSNull } ?? [:]
        #expect(Self.number(voidedBalance["shipped"]) == charge && Self.number(voidedBalance["spent"]) == charge, "\(voidedBalance)")
        let balanceLeasedC = Self.number(voidedBalance["leased"]) ?? 0
        #expect(Self.number(voided["at_risk"]) == leasedC + balanceLeasedC - 2 * charge, "\(voided)")
        #expect(Self.number(voided["freed"]) == leasedC + balanceLeasedC - 2 * charge, "\(voided)")
        var attempt = 0
        let served = try await ClusterNodes.within(.seconds(20)) {
            attempt += 1
            return try await ClusterNodes.complete(cluster.a, key: onC.key, id: "after-void-\(attempt)").status == 200
        }
        #expect(served != nil, "the credit c's lease froze should serve a again")

        // settle-leased: the whole lease counts as spent; nothing is freed.
        let settled = try Self.forgetJSON("b", "settle-leased", cluster.url)
        let settledLeases = settled["leases"] as? [[String: Any]] ?? []
        let settledLease = settledLeases.first { $0["token"] as? String == onB.id } ?? [:]
        #expect(settledLeases.count == 2 && Self.number(settledLease["shipped"]) == charge, "\(settled)")
        #expect(Self.number(settledLease["spent"]) == leasedB && Self.number(settledLease["freed"]) == 0, "\(settled)")
        let balanceLeasedB = Self.number(settledLeases.first { $0["token"] is NSNull }?["leased"]) ?? 0
        #expect(Self.number(settled["at_risk"]) == leasedB + balanceLeasedB - 2 * charge && Self.number(settled["freed"]) == 0, "\(settled)")
        let copiedForgets = try await ClusterNodes.within(.seconds(20)) {
            let events = try await HTTP.get(cluster.a.baseURL + "/api/events?type=node.forgotten", headers: ClusterNodes.admin)
            return (events.json?["data"] as? [Any])?.count == 2
        }
        #expect(copiedForgets != nil, "a should copy both forgets")
        let stillRefused = try await ClusterNodes.complete(cluster.a, key: onB.key, id: "after-settle")
        #expect(stillRefused.status == 429, "a settle-leased lease frees nothing: \(stillRefused.text)")
        let again = try Self.forget("b", "void", cluster.url)
        #expect(again.status == 2 && again.output.contains("nothing to forget"), "\(again.output)")
        let open = try Self.status(cluster.url).leases
        #expect(open.allSatisfy { $0["node"] as? String == "a" }, "only a's own new lease may be open: \(open)")

        // The name after a forget: a directory holding events past the forget is refused; an empty one rebuilds.
        let yaml = Seed.directory() + "/extra.yaml"
        try "users:\n  stray: { group: default }\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let written = try TallyCommand.run(["apply", yaml, "--data", cluster.b.dataPath], errors: true)
        #expect(written.status == 0, "\(written.output)")
        let refusal = try await ClusterTests.refusal(data: cluster.b.dataPath, arguments: ["--cluster", cluster.url, "--node", "b"])
        #expect(refusal.contains("was forgotten"), "\(refusal)")
        let reborn = try await ServerProcess(data: Seed.directory(), arguments: ["--cluster", cluster.url, "--node", "b", "--rebuild"])
        let rest = ClusterNodes(url: cluster.url, seeded: cluster.seeded, nodes: [cluster.a, reborn])
        let digests = try await rest.convergedDigests()
        #expect(Set(digests).count == 1, "\(digests)")
        await rest.stop()
        let verified = try TallyCommand.run(["verify", "--cluster", cluster.url])
        #expect(verified.status == 0 && verified.output.contains("4 forgotten"), "\(verified.output)")
        for data in [cluster.a.dataPath, reborn.dataPath, cluster.c.dataPath] {
            let local = try TallyCommand.run(["verify", "--data", data])
            #expect(local.status == 0, "\(data): \(local.output)")
        }
    }

    /// A node SIGKILLed while it holds leases (its token's and its owner's balance's) returns them when it starts again
    /// (its book is empty, so only the start's stray-lease pass can), having
    /// spent what its log shows it charged under it; `verify --cluster` agrees.
    @Test func aKilledNodeReturnsItsLeaseWhenItStartsAgain() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let cluster = try await ClusterNodes.start(mock: mock)
        let (charge, _) = try await Self.probe(cluster.a)
        let capped = try await ClusterLeaseTests.token(on: cluster.a, ["name": "capped", "quota": 50 * charge])
        let known = try await ClusterNodes.within(.seconds(20)) {
            try await HTTP.get(cluster.c.baseURL + "/api/tokens/\(capped.id)", headers: ClusterNodes.admin).status == 200
        }
        #expect(known != nil)
        for index in 0..<3 { #expect(try await ClusterNodes.complete(cluster.c, key: capped.key, id: "held-\(index)").status == 200) }
        let copied = try await ClusterNodes.within(.seconds(20)) { try await ClusterLeaseTests.used(cluster.a, capped.id) == 3 * charge }
        #expect(copied != nil)
        await cluster.c.kill()
        let held = try Self.status(cluster.url).leases.filter { $0["node"] as? String == "c" }
        #expect(held.count == 2, "c should die holding its token's and its owner's lease: \(held)")

        let back = try await ServerProcess(data: cluster.c.dataPath, arguments: ["--cluster", cluster.url, "--node", "c"])
        let returned = try await ClusterNodes.within(.seconds(20)) { try !Self.status(cluster.url).leases.contains { $0["node"] as? String == "c" } }
        #expect(returned != nil, "the restarted node should return its stray lease (well before the 10 s idle return)")
        let returns = try await HTTP.get(cluster.a.baseURL + "/api/events?type=lease.returned", headers: ClusterNodes.admin)
        let spent = (returns.json?["data"] as? [[String: Any]] ?? []).compactMap { Self.number(($0["payload"] as? [String: Any])?["spent"]) }
        #expect(spent.filter { $0 == 3 * charge }.count == 2, "both returns should carry the three charges: \(spent)")
        let rest = ClusterNodes(url: cluster.url, seeded: cluster.seeded, nodes: [cluster.a, cluster.b, back])
        try await rest.expectConvergedThenVerified()
    }

    /// One request's charge and reservation on an uncapped token (the same request body every test sends).
    static func probe(_ node: ServerProcess) async throws -> (charge: Int64, reservation: Int64) {
        let probe = try await ClusterLeaseTests.token(on: node, ["name": "probe"])
        #expect(try await ClusterNodes.complete(node, key: probe.key, id: "probe").status == 200)
        let events = try await HTTP.get(node.baseURL + "/api/events?type=charge.reserved&limit=1000", headers: ClusterNodes.admin)
        let reserved = (events.json?["data"] as? [[String: Any]] ?? []).compactMap { $0["payload"] as? [String: Any] }
            .first { $0["request_id"] as? String == "probe" }.flatMap { Self.number($0["amount"]) }
        return (try await ClusterLeaseTests.used(node, probe.id), reserved ?? 0)
    }

    static func number(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    static func forget(_ node: String, _ policy: String, _ url: String, json: Bool = false) throws -> (status: Int32, output: String) {
        try TallyCommand.run(["cluster", "forget", node, "--policy", policy, "--cluster", url] + (json ? ["--json"] : []), errors: !json)
    }

    static func forgetJSON(_ node: String, _ policy: String, _ url: String) throws -> [String: Any] {
        let result = try forget(node, policy, url, json: true)
        #expect(result.status == 0, "\(result.output)")
        return (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
    }

    /// `cluster status --json`: the nodes by name, and the open leases.
    static func status(_ url: String) throws -> (nodes: [String: [String: Any]], leases: [[String: Any]]) {
        let result = try TallyCommand.run(["cluster", "status", "--cluster", url, "--json"])
        let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
        var nodes: [String: [String: Any]] = [:]
        for node in json["nodes"] as? [[String: Any]] ?? [] { if let name = node["name"] as? String { nodes[name] = node } }
        return (nodes, json["leases"] as? [[String: Any]] ?? [])
    }
}
