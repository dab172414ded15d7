import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Console
@testable import Ledger

/// Every CSV Tally writes goes through one cell function (`EventCSV.cell`):
/// text a spreadsheet would run as a formula is neutralised, numbers stay numbers.
@Suite struct CSVCellTests {
    @Test func formulasAreNeutralisedAndNumbersKept() {
        #expect(EventCSV.cell("=1+2") == "'=1+2")
        #expect(EventCSV.cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0")
        #expect(EventCSV.cell("-2+3") == "'-2+3")
        #expect(EventCSV.cell("@SUM(A1:A9)") == "'@SUM(A1:A9)")
        #expect(EventCSV.cell("\t=1") == "'\t=1")
        #expect(EventCSV.cell("\r=1") == "\"'\r=1\"")
        #expect(EventCSV.cell(#"=HYPERLINK("http://x","y")"#) == #""'=HYPERLINK(""http://x"",""y"")""#)
        #expect(EventCSV.cell("-") == "'-")
        for number in ["-500", "+3", "-1.25", "42", ""] { #expect(EventCSV.cell(number) == number) }
        #expect(EventCSV.cell("plain, text") == "\"plain, text\"")
    }

    @Test func theDashboardExportUsesIt() async throws {
        let f = try await Fixture.make()
        let evil = #"=HYPERLINK("http://evil.example","x")"#
        _ = try await f.ledger.updateToken(TokenUpdated(id: f.aliceToken, name: evil), by: .system)
        try await f.settle(token: f.aliceToken)
        try await f.live { client in
            let csv = try await client.call(.get, "/api/logs/export?format=csv", key: f.aliceKey).text
            let row = try #require(csv.split(separator: "\r\n").dropFirst().first.map(String.init))
            #expect(row.contains(EventCSV.cell(evil)))
            #expect(!row.contains(",=HYPERLINK"))
        }
    }
}
