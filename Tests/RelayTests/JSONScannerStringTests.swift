import TallyJSON
import Testing

/// Escaped strings in the scanner go through the strict parser's decoder: an
/// escaped key still finds its member, and a string the parser refuses (a
/// lone surrogate) reads as nothing rather than as a guess.
@Suite struct JSONScannerStringTests {
    private func scan<T>(_ text: String, _ body: (JSONScanner, Range<Int>) -> T) -> T {
        Array(text.utf8).withUnsafeBytes { raw in
            let scanner = JSONScanner(raw)
            return body(scanner, scanner.document()!)
        }
    }

    @Test func anEscapedKeyFindsItsMember() {
        let found = scan(#"{"us\u0061ge":{"prompt_tokens":7},"t\"x":"a\nb"}"#) { scanner, root in
            (
                scanner.member("usage", of: root).flatMap { scanner.member("prompt_tokens", of: $0) }.flatMap { scanner.number($0) },
                scanner.member("t\"x", of: root).flatMap { scanner.string($0) }
            )
        }
        #expect(found.0 == 7)
        #expect(found.1 == "a\nb")
    }

    @Test func aSurrogatePairDecodesAndALoneOneReadsAsNothing() {
        let pair = scan(#"{"type":"\ud83d\ude00"}"#) { scanner, root in scanner.member("type", of: root).flatMap { scanner.string($0) } }
        #expect(pair == "😀")
        let lone = scan(#"{"type":"x\ud83d"}"#) { scanner, root in
            (
                scanner.member("type", of: root).flatMap { scanner.string($0) },
                scanner.member("type", of: root).map { scanner.string($0, is: "x\u{FFFD}") }
            )
        }
        #expect(lone.0 == nil)
        #expect(lone.1 == false)
    }
}
