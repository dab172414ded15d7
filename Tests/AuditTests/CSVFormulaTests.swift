import Foundation
import Testing

@testable import Ledger

/// `tally export --format csv` (issue 8, finding 8): model names, request ids
/// and other client-chosen text that a spreadsheet would run as a formula
/// come out as text (`'=…`); amounts stay numbers, negative ones included.
@Suite struct CSVFormulaTests {
    @Test func exportedCellsNeverStartAFormula() async throws {
        let scripted = try await ScriptedLedger()
        defer { scripted.remove() }
        let l = scripted.ledger
        let models = [#"=HYPERLINK("http://evil.example","x")"#, "@SUM(A1:A9)", "+1+2", "-2+3"]
        for model in models { try await l.setPrice(model, Price(perRequest: 1), by: .system) }
        try await l.setGroup("default", multiplier: .one, by: .system)
        let user = try await l.createUser(UserDraft(username: "carol"), by: .system).user.id
        _ = try await l.credit(user, amount: 1000, by: .system)
        _ = try await l.adjustBalance(user, amount: -500, reason: "=correction", by: .system)
        await l.close()

        let result = try TallyProcess.run(["export", "--data", scripted.directory, "--format", "csv"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for model in models {
            let line = try #require(lines.first { $0.contains("price.set") && $0.contains(EventCSV.cell(model)) }, "no row for \(model)")
            #expect(line.contains(",'") || line.contains(",\"'"), "\(line)")
        }
        // No cell starts with a formula character, except the plain numbers.
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).prefix(15)
            for cell in cells where ["=", "+", "@"].contains(cell.first.map(String.init) ?? "") { Issue.record("formula cell \(cell) in \(line)") }
        }
        let adjusted = try #require(lines.first { $0.contains("balance.adjusted") })
        #expect(adjusted.split(separator: ",", omittingEmptySubsequences: false)[10] == "-500")
    }
}
