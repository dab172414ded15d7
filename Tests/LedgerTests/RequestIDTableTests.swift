import Testing

@testable import Ledger

/// The auditor's interned request ids against a plain `[String: Int]` kept
/// beside them: same answers for ids present and absent, through growth from
/// the smallest table, for ids that are empty, long, non-ASCII or prefixes of one another.
@Suite struct RequestIDTableTests {
    static func ids(_ count: Int) -> [String] {
        var ids = ["", "a", "ab", "abc", "é", "req_" + String(repeating: "x", count: 300)]
        for i in 0..<count { ids.append("req_\(i)") }
        return ids
    }

    @Test(arguments: [0, 1_000])
    func findsWhatWasInsertedAndNothingElse(capacity: Int) {
        var table = RequestIDTable(capacity: capacity)
        var plain: [String: Int] = [:]
        for id in Self.ids(20_000) {
            #expect(table.find(id) == nil)
            let index = table.insert(id)
            #expect(index == plain.count)
            plain[id] = index
        }
        #expect(table.count == plain.count)
        for (id, index) in plain {
            #expect(table.find(id) == index)
            #expect(table.name(index) == id)
        }
        for absent in ["req_20000", "req_", "abcd", "req_1 ", "e"] { #expect(table.find(absent) == nil) }
    }
}
