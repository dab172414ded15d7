import Foundation
import Ledger
import Testing

/// `tally export`'s period through the binary: `--from` inclusive, `--to`
/// exclusive — an event at exactly `--to` is left out, one a millisecond
/// earlier kept — the bounds `LogQuery.end(before:)` gives the export walk.
@Suite struct ExportBoundsTests {
    @Test func toIsExclusiveAndFromInclusive() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        _ = try await scripted.seed(requests: 6)
        await scripted.ledger.close()
        let head = try scripted.store.head().seq
        let events = try (1...head).map { try #require(try scripted.store.event($0)) }
        let middle = events[events.count / 2].time
        #expect(events.contains { $0.time < middle } && events.contains { $0.time > middle })

        func exported(_ arguments: [String]) throws -> [Int] {
            let result = try TallyProcess.run(["export", "--data", scripted.directory] + arguments)
            #expect(result.status == 0)
            return try result.stdout.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["seq"] as! Int
            }
        }
        func seqs(_ keep: (Int64) -> Bool) -> [Int] { events.filter { keep($0.time) }.map { Int($0.seq) } }

        let at = RFC3339.format(milliseconds: middle)
        #expect(try exported(["--to", at]) == seqs { $0 < middle })
        #expect(try exported(["--to", RFC3339.format(milliseconds: middle + 1)]) == seqs { $0 <= middle })
        #expect(try exported(["--from", at]) == seqs { $0 >= middle })
        #expect(try exported(["--from", at, "--to", at]).isEmpty)
        #expect(try exported(["--from", at, "--to", RFC3339.format(milliseconds: middle + 1)]) == seqs { $0 == middle })
    }
}
