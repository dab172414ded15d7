/// A minimal `multipart/form-data` reader, enough for the fields of an audio
/// transcription upload (`model`, `file`, `prompt`, …).
struct MultipartPart: Sendable {
    let name: String
    let filename: String?
    let content: [UInt8]

    var text: String { String(decoding: content, as: UTF8.self) }
}

enum Multipart {
    /// The boundary from a `multipart/form-data; boundary=…` content type.
    static func boundary(contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// Splits `body` into its parts; malformed parts are skipped.
    static func parse(_ body: [UInt8], boundary: String) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        let headerEnd = Array("\r\n\r\n".utf8)
        var parts: [MultipartPart] = []
        var sections = split(body, on: delimiter)
        guard !sections.isEmpty else { return [] }
        sections.removeFirst()  // the preamble before the first delimiter
        for var section in sections {
            if section.starts(with: Array("--".utf8)) { break }  // closing delimiter
            if section.starts(with: Array("\r\n".utf8)) { section.removeFirst(2) }
            guard let end = firstRange(of: headerEnd, in: section) else { continue }
            let head = String(decoding: section[..<end.lowerBound], as: UTF8.self)
            var content = Array(section[end.upperBound...])
            if content.suffix(2).elementsEqual(Array("\r\n".utf8)) { content.removeLast(2) }
            guard let disposition = head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition") }),
                let name = parameter("name", in: disposition)
            else { continue }
            parts.append(MultipartPart(name: name, filename: parameter("filename", in: disposition), content: content))
        }
        return parts
    }

    private static func parameter(_ key: String, in header: Substring) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingWhitespace() == key else { continue }
            return pair[1].trimmingWhitespace().trimmingCharacters(in: "\"")
        }
        return nil
    }

    private static func split(_ bytes: [UInt8], on delimiter: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var rest = bytes
        while let range = firstRange(of: delimiter, in: rest) {
            result.append(Array(rest[..<range.lowerBound]))
            rest = Array(rest[range.upperBound...])
        }
        result.append(rest)
        return result
    }

    private static func firstRange(of needle: [UInt8], in bytes: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }

    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
