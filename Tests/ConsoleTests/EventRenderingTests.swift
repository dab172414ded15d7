import Hummingbird
import HummingbirdTesting
import TallyJSON
import Testing

@testable import Console
@testable import Ledger

/// One rendering of the log: an event is the same bytes in `/api/events` as in
/// `tally export` (which writes `EventJSON.write` once per line), whatever its
/// strings hold, so an auditor can diff the two.
@Suite struct EventRenderingTests {
    @Test func apiEventsAndExportRenderTheSameBytes() async throws {
        let f = try await Fixture.make()
        let tricky = "a\"b\\c\n\r\t\u{08}\u{0C}\u{01}\u{7F}<tag>&é\u{2028}\u{2029}😀"
        _ = try await f.ledger.credit(f.alice, amount: 5, note: tricky, by: .user(f.admin))
        try await f.live { client in
            let seq = try f.ledger.store.head().seq
            let envelope = try #require(try f.ledger.store.event(seq))
            var exported: [UInt8] = []
            EventJSON.write(envelope, into: &exported)
            let line = String(decoding: exported, as: UTF8.self)
            #expect(line == EventJSON.line(envelope))
            #expect(line.contains(#""note":"a\"b\\c\n\r\t\b\f\u0001\u007f\u003ctag\u003e\u0026é\u2028\u2029😀""#))

            let response = try await client.call(.get, "/api/events?after=\(seq - 1)&limit=1", key: f.adminKey)
            #expect(response.text == #"{"data":["# + line + #"],"next_cursor":"\#(seq)"}"# + "\n")
            #expect(response.data.first?["payload"]?["note"]?.stringValue == tricky)
        }
    }
}
