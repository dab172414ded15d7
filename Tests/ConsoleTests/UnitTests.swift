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
        for bad in [
            "", "{", "{\"a\":1,}", "[01]", "{'a':1}", "{\"a\":1}x", "\"\u{01}\"", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "tru",
            String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
        ] {
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

    @Test func prettyPrintsForPeople() {
        let value = JSONValue.object([("a", .array([.int(1), .object([])])), ("b", .object([("c", .string("<x>"))])), ("d", .array([]))])
        #expect(value.prettyPrinted == "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": {\n    \"c\": \"\\u003cx\\u003e\"\n  },\n  \"d\": []\n}")
    }

    @Test func hexIsLowercaseAndZeroPadded() {
        #expect(Hex.string([0, 0xDEAD_BEEF, .max]) == "0000000000000000" + "00000000deadbeef" + "ffffffffffffffff")
        var out: [UInt8] = []
        Hex.append(0x7, width: 2, to: &out)
        #expect(out == Array("07".utf8))
        let hash = Hash256(of: "abc")
        #expect(hash.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
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
        for bad in [
            "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T25:00:00Z", "2026-11-26T10:00:00",
            "tomorrow", "2026-11-26T10:00:00.Z", "2026-11-26T10:00:00+2:00",
        ] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}
