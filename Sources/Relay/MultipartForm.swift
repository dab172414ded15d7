import Foundation

/// The text fields of a multipart/form-data upload, read part by part with the
/// boundary the client declared — never by searching the bytes for
/// `name="model"`, which a file name or another field's value can contain.
/// Anything a provider's parser could read another way (no boundary, a part
/// without a plain `name`, RFC 2231 `name*=`, a field sent twice) is refused.
struct MultipartForm {
    struct Failure: Error {
        var reason: String
    }

    /// Plain text fields by name; file parts are skipped.
    private(set) var fields: [String: String] = [:]
    /// Where each plain text field's value lies in the body (offsets from its start), so one can be rewritten.
    private(set) var valueRanges: [String: Range<Int>] = [:]
    /// Names seen more than once (files included): ambiguous for every field read.
    private(set) var repeated: Set<String> = []

    init(_ body: Data, contentType: String?) throws(Failure) {
        guard let contentType, let boundary = Self.parameter("boundary", in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200,
            contentType.lowercased().hasPrefix("multipart/form-data")
        else {
            throw Failure(reason: "the upload is not multipart/form-data with a boundary")
        }
        let delimiter = Data("--\(boundary)".utf8)
        let lineDelimiter = Data("\r\n--\(boundary)".utf8)
        guard let first = body.range(of: delimiter), body[body.startIndex..<first.lowerBound].allSatisfy({ $0 == 0x0D || $0 == 0x0A }) else {
            throw Failure(reason: "the upload does not start with its boundary")
        }
        var cursor = first.upperBound
        var names: Set<String> = []
        while true {
            // After a delimiter: "--" ends the form, CRLF starts a part.
            if body[cursor...].starts(with: Data("--".utf8)) { break }
            guard body[cursor...].starts(with: Data("\r\n".utf8)),
                let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: (cursor + 2)..<body.endIndex),
                let next = body.range(of: lineDelimiter, in: headerEnd.upperBound..<body.endIndex)
            else {
                throw Failure(reason: "a part of the upload is malformed")
            }
            let headers = String(decoding: body[(cursor + 2)..<headerEnd.lowerBound], as: UTF8.self)
            let disposition = try Self.disposition(headers)
            if !names.insert(disposition.name).inserted { repeated.insert(disposition.name) }
            if !disposition.isFile {
                fields[disposition.name] = String(decoding: body[headerEnd.upperBound..<next.lowerBound], as: UTF8.self)
                valueRanges[disposition.name] = (headerEnd.upperBound - body.startIndex)..<(next.lowerBound - body.startIndex)
            }
            cursor = next.upperBound
        }
    }

    /// The `name` of a part, and whether it is a file, from its Content-Disposition.
    private static func disposition(_ headers: String) throws(Failure) -> (name: String, isFile: Bool) {
        let lines = headers.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("content-disposition:") }
        guard lines.count == 1, let line = lines.first else { throw Failure(reason: "a part has no single Content-Disposition") }
        let value = String(line.dropFirst("content-disposition:".count))
        let parameters = value.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let keys = parameters.map { String($0.prefix { $0 != "=" }) }
        guard !keys.contains(where: { $0.hasSuffix("*") }), Set(keys).count == keys.count,
            let name = parameter("name", in: value)
        else {
            throw Failure(reason: "a part's Content-Disposition has no single plain name")
        }
        return (name, keys.contains("filename"))
    }

    /// A `key=value` or `key="value"` parameter of a header value (key case-insensitive).
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let parts = piece.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
