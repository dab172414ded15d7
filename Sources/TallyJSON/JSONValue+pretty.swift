/// Indented serialization for people (the `--json` output of the `tally`
/// commands): two spaces a level, `"key": value`, empty containers as `[]` and
/// `{}`. Scalars and strings are written exactly as `serialized` writes them.
extension JSONValue {
    public var prettyPrinted: String {
        var out: [UInt8] = []
        writePretty(into: &out, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    private func writePretty(into out: inout [UInt8], level: Int) {
        let pad = [UInt8](repeating: UInt8(ascii: " "), count: 2 * (level + 1))
        switch self {
        case .array(let items) where !items.isEmpty:
            out.append(contentsOf: "[\n".utf8)
            for (i, item) in items.enumerated() {
                out.append(contentsOf: pad)
                item.writePretty(into: &out, level: level + 1)
                out.append(contentsOf: (i + 1 < items.count ? ",\n" : "\n").utf8)
            }
            out.append(contentsOf: pad.dropLast(2))
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(contentsOf: "{\n".utf8)
            for (i, (key, value)) in members.enumerated() {
                out.append(contentsOf: pad)
                JSONValue.writeString(key, into: &out)
                out.append(contentsOf: ": ".utf8)
                value.writePretty(into: &out, level: level + 1)
                out.append(contentsOf: (i + 1 < members.count ? ",\n" : "\n").utf8)
            }
            out.append(contentsOf: pad.dropLast(2))
            out.append(UInt8(ascii: "}"))
        default:
            write(into: &out)
        }
    }
}
