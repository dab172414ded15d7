import Foundation
import Ledger
import NIOHTTP1
import Testing

/// Pruning closed periods end to end through the real binary (Docs/auditing.md,
/// "Pruning closed periods"): close → prune → restart → verify → the closed
/// period's logs read from its archive; and the refusals and attacks around
/// it — a prune with nothing closed, beside a running server, twice; the
/// archive changed or deleted after the prune; a backup of the pruned log restored.
@Suite(.serialized) struct PruneTests {
    static let adminKey = [("Authorization", "Bearer tk-" + String(repeating: "a", count: 40))]

    /// The rows `tally export` printed, one JSON object a line.
    static func rows(_ output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    @Test func closePruneRestartVerifyAndReadTheClosedPeriodsLogs() async throws {
        let gateway = try await Gateway.start()
        let cases = ChargingTests.cases(key: gateway.key)
        for (i, item) in cases.enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "pr-a\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        try await Task.sleep(for: .milliseconds(600))
        let boundary = RFC3339.format(milliseconds: LedgerClock.now())
        try await Task.sleep(for: .milliseconds(600))
        for (i, item) in cases.prefix(2).enumerated() {
            let response = try await HTTP.post(gateway.base + item.path, headers: item.headers + [("X-Request-Id", "pr-b\(i)")], json: item.body)
            #expect(response.status == 200, "\(item.name): \(response.text)")
        }
        let data = gateway.data

        // Refused while the server writes, and with nothing closed: exit 2, nothing changed.
        for arguments in [["close", "--data", data, "--until", boundary, "--prune-archived"], ["prune", "--data", data]] {
            let beside = try TallyCommand.run(arguments, errors: true)
            #expect(beside.status == 2 && beside.output.contains("another tally process"), "\(arguments): \(beside.output)")
        }
        await gateway.stop()
        let unclosed = try TallyCommand.run(["prune", "--data", data], errors: true)
        #expect(unclosed.status == 2 && unclosed.output.contains("no period is closed"), "\(unclosed.output)")

        // Close, archive and prune in one go.
        let closing = try TallyCommand.run(["close", "--data", data, "--until", boundary, "--prune-archived", "--json"], errors: true)
        #expect(closing.status == 0, "\(closing.output)")
        let close = BooksTests.json(closing.output)
        let through = try #require((close["payload"] as? [String: Any])?["through"] as? Int, "\(closing.output)")
        let pruned = try #require(close["pruned"] as? [String: Any])
        #expect(pruned["first"] as? Int == through + 1 && pruned["removed"] as? Int == through, "\(pruned)")
        let archive = try #require(close["archive"] as? String)
        let twice = try TallyCommand.run(["prune", "--data", data], errors: true)
        #expect(twice.status == 2 && twice.output.contains("nothing to prune"), "\(twice.output)")

        // The pruned log verifies, alone (its anchor against the archive) and as one chain with the archives.
        let verified = try TallyCommand.run(["verify", "--data", data, "--json"], errors: true)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(BooksTests.json(verified.output)["first"] as? Int == through + 1)
        for command in ["reconcile", "replay"] {
            let run = try TallyCommand.run([command, "--data", data], errors: true)
            #expect(run.status == 0, "\(command): \(run.output)")
        }
        let chained = try TallyCommand.run(["verify", "--data", data, "--archive", data + "/archive"], errors: true)
        #expect(chained.status == 0 && chained.output.contains("linked to the live log"), "\(chained.output)")

        // A restarted server: the open period's logs as before, the pruned log's start named, the closed period's rows gone from the live log.
        let server = try await ServerProcess(data: data)
        let open = try await HTTP.get(server.baseURL + "/api/logs?request=pr-b0", headers: Self.adminKey)
        #expect((open.json?["data"] as? [[String: Any]])?.first?["request_id"] as? String == "pr-b0", "\(open.text)")
        let page = try await HTTP.get(server.baseURL + "/api/logs?limit=500", headers: Self.adminKey)
        #expect(page.headers.first(name: "X-Tally-Log-Start") == String(through + 1))
        let ids = (page.json?["data"] as? [[String: Any]])?.compactMap { $0["request_id"] as? String } ?? []
        // The closed period's rows come from the archive, past the live log's start (Docs/auditing.md).
        #expect(ids.contains("pr-b1") && ids.contains("pr-a0"), "\(ids)")
        // The restarted server appends after the pruned log (the mock upstream is gone, so through the API).
        let credited = try await HTTP.post(
            server.baseURL + "/api/users/\(gateway.seeded.admin)/credit", headers: Self.adminKey, json: ["amount": 1_000])
        #expect(credited.status == 200, "\(credited.text)")
        await server.stop()
        #expect(try TallyCommand.run(["verify", "--data", data]).status == 0)

        // The closed period's logs, from the archive.
        let exported = try TallyCommand.run(["export", "--data", data, "--archive", data + "/archive", "--request", "pr-a0"], errors: true)
        #expect(exported.status == 0, "\(exported.output)")
        #expect(Self.rows(exported.output).compactMap { $0["type"] as? String } == ["charge.reserved", "charge.settled"], "\(exported.output)")
        let statement = try TallyCommand.run(
            ["statement", "--data", data, "--user", gateway.seeded.admin.description, "--from", "2020-01-01", "--to", "2999-01-01"], errors: true)
        #expect(statement.status == 2 && statement.output.contains("pruned into"), "\(statement.output)")

        // Attacks on the archive after the prune: one byte changed, then the file deleted.
        let bytes = try #require(FileManager.default.contents(atPath: archive))
        var altered = bytes
        altered[altered.count / 2] ^= 0x01
        try altered.write(to: URL(fileURLWithPath: archive))
        let tampered = try TallyCommand.run(["verify", "--data", data], errors: true)
        #expect(tampered.status == 1 && tampered.output.contains("digest does not match"), "\(tampered.output)")
        let tamperedExport = try TallyCommand.run(["export", "--data", data, "--archive", archive], errors: true)
        #expect(tamperedExport.status == 1 && tamperedExport.output.contains("not to be trusted"), "\(tamperedExport.output.suffix(400))")
        try FileManager.default.removeItem(atPath: archive)
        let deleted = try TallyCommand.run(["verify", "--data", data], errors: true)
        #expect(deleted.status == 1 && deleted.output.contains("the link to the pruned events is unchecked"), "\(deleted.output)")
        let rewrite = try TallyCommand.run(["close", "--data", data, "--until", boundary], errors: true)
        #expect(rewrite.status == 2 && rewrite.output.contains("were pruned from the live log"), "\(rewrite.output)")
        try bytes.write(to: URL(fileURLWithPath: archive))
        #expect(try TallyCommand.run(["verify", "--data", data]).status == 0)

        // A backup holds the pruned live log; restored, it verifies once the archives are beside it.
        let backup = Seed.directory() + "/backup"
        #expect(try TallyCommand.run(["backup", "--data", data, "--out", backup]).status == 0)
        let restored = Seed.directory()
        // Restored without the archives the pruned log stands on: refused, nothing restored; with them, it verifies.
        let restore = try TallyCommand.run(["restore", "--from", backup, "--data", restored], errors: true)
        #expect(restore.status == 2 && restore.output.contains("does not verify"), "\(restore.output)")
        let withArchive = try TallyCommand.run(["restore", "--from", backup, "--data", restored, "--archive", data + "/archive"], errors: true)
        #expect(withArchive.status == 0, "\(withArchive.output)")
        let whole = try TallyCommand.run(["verify", "--data", restored], errors: true)
        #expect(whole.status == 0, "\(whole.output)")
    }
}
