import Foundation
import LMDB
import Ledger
import Testing

/// `tally cluster init --import DIR --node NAME` against a real PostgreSQL and
/// real `tally` processes: a single node that served and charged requests
/// becomes a new cluster's first stream, serves on as that node, and a new
/// node serves its token with its balance; every refusal writes nothing.
@Suite(.serialized) struct ClusterImportTests {
    static func importing(_ data: String, into url: String, as node: String = "solo") throws -> (status: Int32, output: String) {
        try TallyCommand.run(["cluster", "init", "--cluster", url, "--import", data, "--node", node], errors: true)
    }

    /// Whether the cluster at `url` holds no node and `verify --cluster` finds only the empty control stream.
    static func holdsNothing(_ url: String) throws -> Bool {
        let nodes = try ClusterTests.status(url)?["nodes"] as? [Any]
        let verified = try TallyCommand.run(["verify", "--cluster", url, "--json"])
        let streams = (try JSONSerialization.jsonObject(with: Data(verified.output.utf8)) as? [String: Any])?["streams"] as? [[String: Any]]
        return nodes?.isEmpty == true && streams?.allSatisfy { ($0["events"] as? Int) == 0 } == true
    }

    /// The credits the seeded token has used, as `node` reports them.
    static func used(on node: ServerProcess, _ seeded: Seeded) async throws -> Int {
        let token = try await HTTP.get(node.baseURL + "/api/tokens/\(seeded.token)", headers: ClusterNodes.admin)
        return try #require(token.json?["used"] as? Int, "\(token.text)")
    }

    /// A copy of the directory at `data` with one byte of event `seq`'s payload flipped (its hash no longer matches).
    static func tamperedCopy(of data: String, seq: UInt64) throws -> String {
        let copy = Seed.directory() + "/tampered"
        try FileManager.default.copyItem(atPath: data, toPath: copy)
        let store = try LedgerStore(path: copy)
        let key = withUnsafeBytes(of: seq.bigEndian) { Array($0) }
        try store.environment.write { txn in
            var value = try #require(try txn.get(store.events, key: key))
            value[value.count - 70] ^= 0x01
            try txn.put(store.events, key: key, value: value)
        }
        return copy
    }

    @Test func aSingleNodesLogBecomesTheFirstStreamAndEveryNodeServesIt() async throws {
        let mock = try await MockServer()
        defer { mock.stop() }
        let data = Seed.directory()
        let seeded = try await Seed.make(at: data, mock: mock.baseURL)
        let single = try await ServerProcess(data: data)
        for index in 0..<5 {
            #expect(try await ClusterNodes.complete(single, key: seeded.key, id: "single_\(index)").status == 200)
        }
        let usedBefore = try await Self.used(on: single, seeded)
        let url = try TestPostgres.database()

        // Refused, with nothing written: the single node still serving, a log that does not verify, no node name.
        let running = try Self.importing(data, into: url)
        #expect(running.status == 2 && running.output.contains("stop it first"), "\(running.output)")
        await single.stop()
        #expect(try Self.holdsNothing(url))
        let tampered = try Self.importing(try Self.tamperedCopy(of: data, seq: 3), into: url)
        #expect(tampered.status == 1 && tampered.output.contains("does not verify"), "\(tampered.output)")
        #expect(try Self.holdsNothing(url))
        let unnamed = try TallyCommand.run(["cluster", "init", "--cluster", url, "--import", data], errors: true)
        #expect(unnamed.status != 0 && unnamed.output.contains("--import and --node go together"), "\(unnamed.output)")

        // Imported: the stream is the log, event for event, and verifies.
        let imported = try Self.importing(data, into: url)
        #expect(imported.status == 0, "\(imported.output)")
        let head = try BackupTests.head(data)
        let shipped = try ClusterTests.shipped(url, node: "solo")
        #expect(shipped?.seq == head.seq && shipped?.hash == head.hash.hex, "\(String(describing: shipped)) vs \(head)")
        #expect(try TallyCommand.run(["verify", "--cluster", url]).status == 0)

        // A second history is not merged into it.
        let other = Seed.directory()
        _ = try await Seed.make(at: other, mock: mock.baseURL)
        let merged = try Self.importing(other, into: url, as: "other")
        #expect(merged.status == 2 && merged.output.contains("already holds events"), "\(merged.output)")
        #expect((try ClusterTests.status(url)?["nodes"] as? [Any])?.count == 1)

        // The directory serves on as node `solo`; a new node copies its users, token and charges and serves the token.
        let solo = try await ServerProcess(data: data, arguments: ["--cluster", url, "--node", "solo"])
        let fresh = try await ServerProcess(data: Seed.directory(), arguments: ["--cluster", url, "--node", "fresh"])
        try await ClusterNodes.setChannelKeys(on: fresh)
        #expect(try await ClusterNodes.complete(fresh, key: seeded.key, id: "fresh_0").status == 200)
        #expect(try await ClusterNodes.complete(solo, key: seeded.key, id: "solo_0").status == 200)
        // Seven identical requests, five of them before the import: each node counts all seven once it copied the other's.
        #expect(usedBefore > 0)
        let counted = try await ClusterNodes.within(.seconds(20)) {
            let (onFresh, onSolo) = (try await Self.used(on: fresh, seeded), try await Self.used(on: solo, seeded))
            return onFresh * 5 == usedBefore * 7 && onSolo == onFresh
        }
        let (usedOnFresh, usedOnSolo) = (try await Self.used(on: fresh, seeded), try await Self.used(on: solo, seeded))
        #expect(counted != nil, "fresh \(usedOnFresh), solo \(usedOnSolo), before \(usedBefore)")
        let nodes = ClusterNodes(url: url, seeded: seeded, nodes: [solo, fresh])
        let digests = try await nodes.convergedDigests()
        #expect(Set(digests).count == 1, "the projections should converge: \(digests)")
        await nodes.stop()
        #expect(try TallyCommand.run(["verify", "--cluster", url]).status == 0)
        for node in nodes.nodes { #expect(try TallyCommand.run(["verify", "--data", node.dataPath]).status == 0) }
    }
}
