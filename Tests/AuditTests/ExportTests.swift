import Foundation
import LMDB
import Ledger
import TallyJSON
import Testing

/// The JSON rendering is deterministic and escapes correctly; exports filter.
@Suite struct ExportTests {
    @Test func jsonEscaping() {
        let value: JSONValue = .object([("a\"b", .string("line\nbreak\t\u{01}é\u{2028}\\")), ("n", .int(-5)), ("z", .null)])
        #expect(value.serialized == #"{"a\"b":"line\nbreak\t\u0001é\u2028\\","n":-5,"z":null}"#)
    }

    @Test func rfc3339RoundTrips() {
        let ms: Int64 = 1_780_000_123_456
        let text = RFC3339.format(milliseconds: ms)
        #expect(text == "2026-05-28T20:28:43.456Z")
        #expect(RFC3339.parse(text) == ms)
        #expect(RFC3339.parse("2026-05-28T22:28:43.456+02:00") == ms)
        #expect(RFC3339.parse("2026-05-28") == 1_779_926_400_000)
        #expect(RFC3339.parse("1969-12-31T23:59:59Z") == -1000)
        #expect(RFC3339.format(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.parse("2026-02-30") == nil)
        #expect(RFC3339.parse("2026-05-28T10:00") == nil)
    }

    @Test func exportFiltersAndFormats() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let scenario = try await scripted.seed(requests: 6)
        await scripted.ledger.close()
        let head = try scripted.store.head().seq

        let all = try TallyProcess.run(["export", "--data", scripted.directory])
        #expect(all.status == 0)
        let lines = all.stdout.split(separator: "\n")
        #expect(lines.count == Int(head))
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["seq"] as? Int == 1 && (first["hash"] as? String)?.count == 64 && first["payload"] is [String: Any])
        #expect(lines[0].hasPrefix(#"{"seq":1,"time":""#))
        #expect(!all.stdout.contains("secret_hash") && !all.stdout.contains("access_key_hash"))

        let settled = try TallyProcess.run([
            "export", "--data", scripted.directory, "--type", "charge.settled", "--token", scenario.capped.description,
        ])
        let settledLines = settled.stdout.split(separator: "\n")
        #expect(settledLines.count == 1)  // the capped token serves requests 0 and 3; request 3 is voided
        #expect(settledLines.allSatisfy { $0.contains(#""type":"charge.settled""#) && $0.contains(scenario.capped.description) })

        let csv = try TallyProcess.run(["export", "--data", scripted.directory, "--format", "csv", "--user", scenario.bob.description])
        #expect(csv.status == 0)
        let rows = csv.stdout.split(separator: "\n")
        #expect(rows.first.map(String.init) == EventCSV.header)
        #expect(rows.count > 2)

        // A window in time: only events inside it.
        var state = LedgerState()
        try Replay.run(store: scripted.store, into: &state, until: .seq(10))
        let from = RFC3339.format(milliseconds: state.time + 1)
        let windowed = try TallyProcess.run(["export", "--data", scripted.directory, "--from", from])
        let times = try windowed.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["time"] as! String
        }
        #expect(!times.isEmpty && times.allSatisfy { $0 >= from })

        let request = try TallyProcess.run(["export", "--data", scripted.directory, "--request", scenario.settled[0]])
        #expect(
            request.stdout.split(separator: "\n").map { $0.contains(#""type":"charge.reserved""#) || $0.contains(#""type":"charge.settled""#) } == [
                true, true,
            ])

        #expect(try TallyProcess.run(["export", "--data", scripted.directory, "--type", "nope"]).status == 2)
    }

    @Test func statsCountsByType() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        _ = try await scripted.seed(requests: 4)
        _ = try await scripted.ledger.writeSnapshot()
        await scripted.ledger.close()
        let result = try TallyProcess.run(["stats", "--data", scripted.directory, "--json"])
        #expect(result.status == 0)
        let json = try result.json()
        let byType = try #require(json["by_type"] as? [String: Int])
        #expect(byType["charge.reserved"] == 4 && byType["charge.settled"] == 3 && byType["charge.voided"] == 1)
        #expect(json["events"] as? Int == Int(try scripted.store.head().seq))
        #expect((json["snapshots"] as? [Any])?.count == 1)
    }
}
