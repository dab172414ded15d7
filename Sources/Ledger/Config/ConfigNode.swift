import TallyJSON

/// A configuration document's tree, whatever it was written in: a YAML file
/// (`tally apply FILE`) or the JSON body of `POST /api/config/apply`. One
/// reader (`DeclaredConfig`) then checks both the same way. A scalar keeps its
/// text and whether it was written unquoted: only an unquoted one may read as
/// a number or a boolean (`rpm: 600`, not `rpm: "600"`), as YAML says.
package indirect enum ConfigNode: Sendable {
    case null
    /// `plain`: a YAML plain scalar, or a JSON number or boolean.
    case scalar(String, plain: Bool)
    case mapping([(key: String, value: ConfigNode)])
    case sequence([ConfigNode])

    /// Any scalar's text (`name: 5` is the name "5").
    var string: String? { if case .scalar(let text, _) = self { text } else { nil } }

    /// An unquoted whole number (YAML's `_` separators allowed; `250.0` is 250, as JSON Schema says).
    var int: Int64? {
        guard case .scalar(let text, plain: true) = self else { return nil }
        if let value = Int64(text.filter { $0 != "_" }) { return value }
        guard let value = double, value.rounded() == value, abs(value) < 0x1p63 else { return nil }
        return Int64(value)
    }

    /// An unquoted number, as YAML reads it.
    var double: Double? {
        guard case .scalar(let text, plain: true) = self else { return nil }
        return Double(text.filter { $0 != "_" })
    }

    /// An unquoted `true`/`yes`/`on` or `false`/`no`/`off`, in any case, as YAML 1.1 reads it.
    var bool: Bool? {
        guard case .scalar(let text, plain: true) = self else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: return nil
        }
    }

    /// A JSON body's value: strings quoted, numbers and booleans plain.
    package init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let value): self = .scalar(value ? "true" : "false", plain: true)
        case .number(let text): self = .scalar(text, plain: true)
        case .string(let text): self = .scalar(text, plain: false)
        case .array(let items): self = .sequence(items.map(ConfigNode.init))
        case .object(let members): self = .mapping(members.map { (key: $0.0, value: ConfigNode($0.1)) })
        }
    }

    /// The JSON that reads back as this tree: a plain scalar that is a
    /// boolean or a number goes as one (its text kept when it is already a
    /// JSON number), any other scalar as a string.
    package var json: JSONValue {
        switch self {
        case .null: return .null
        case .scalar(let text, let plain):
            guard plain else { return .string(text) }
            if case .number? = try? JSONParser.parse(Array(text.utf8)) { return .number(text) }
            if let value = bool { return .bool(value) }
            if let value = int { return .int(value) }
            if let value = double, value.isFinite { return .number("\(value)") }
            return .string(text)
        case .sequence(let items): return .array(items.map(\.json))
        case .mapping(let pairs): return .object(pairs.map { ($0.key, $0.value.json) })
        }
    }
}
