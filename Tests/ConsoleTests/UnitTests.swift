import TallyJSON
import Testing
@testable import Console
@testable import Ledger

@Suite struct JSONTests {
    @Test func parsesStrictly() throws {
        let value = try JSONParser.parse(Array(#" {"a":[1,-2.5e3,true,null,"x\u00e9\ud83d\ude00"],"b":{}} "#.utf8))
        #expect(value["a"]?.arrayValue?.count == 5)
        #expect(value["a"]?.arrayValue?[4].stringValue == "xé😀")
        #expect(value["a"]?.arrayValue?[1] == .number("-2.5e3"))
        for bad in ["", "{", "{\"a\":1,}", "[01]", "{'a':1}", "{\"a\":1}x", "\"\u{01}\"", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "tru",
                    String(repeating: "[", count: 40) + String(repeating: "]", count: 40)] {
            #expect(throws: JSONParser.Failure.self, "\(bad)") { try JSONParser.parse(Array(bad.utf8)) }
        }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func serializesSafely() {
        let value = JSONValue.object([("s", .string("a\"b\\c\n<script>&\u{07}")), ("n", .int(-5)), ("z", .null)])
        #expect(value.serialized == #"{"s":"a\"b\\c\n\u003cscript\u003e\u0026\u0007","n":-5,"z":null}"#)
        let parsed = try? JSONParser.parse(Array(value.serialized.utf8))
        #expect(parsed == value)
    }

    /// One escaper: an event renders to the same bytes in `tally export` (the
    /// ledger's renderer) and in `/api/events` (the console's), whatever its strings hold.
    @Test func exportAndAPIRenderTheSameBytes() {
        let tricky = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{7F}<tag>&é\u{2028}\u{2029}😀"
        let ledger = LedgerJSONValue.object([("note", .string(tricky)), ("n", .int(-42)), ("list", .array([.null, .bool(true)]))])
        #expect(JSONValue(ledger).serialized == ledger.rendered)
        #expect(ledger.rendered == #"{"note":"a\"b\\c\n\r\t\b\f\u0001\u007f\u003ctag\u003e\u0026é\u2028\u2029😀","n":-42,"list":[null,true]}"#)
        #expect((try? JSONParser.parse(Array(ledger.rendered.utf8)))?["note"]?.stringValue == tricky)
    }
}

@Suite struct RFC3339Tests {
    @Test func roundTrips() {
        for ms: Int64 in [0, 1, 951_782_400_000, 1_764_171_922_123, 4_102_444_799_999] {
            #expect(RFC3339.parse(RFC3339.format(milliseconds: ms)) == ms)
        }
        #expect(RFC3339.format(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.parse("2026-11-26T17:45:22+02:00") == RFC3339.parse("2026-11-26T15:45:22Z"))
        #expect(RFC3339.parse("2024-02-29T00:00:00Z") != nil)
        for bad in ["2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T25:00:00Z", "2026-11-26T10:00:00",
                    "tomorrow", "2026-11-26T10:00:00.Z", "2026-11-26T10:00:00+2:00"] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}

