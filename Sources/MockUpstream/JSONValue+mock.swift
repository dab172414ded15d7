import TallyJSON

/// What the mock adds to Tally's JSON value: literals, so a response is
/// written field by field in the order the real providers use (`id` first,
/// `usage` last), floating-point numbers (embeddings, rerank scores), and
/// lenient readers for what SDKs send.
extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral
{
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
    /// A request body (or WebSocket message); nil when it is not JSON. As deep
    /// as the relay forwards (`RequestInspection.parsing`), so the mock reads
    /// whatever Tally lets through.
    static func parse(_ bytes: some Sequence<UInt8>) -> JSONValue? {
        try? JSONParser.parse(Array(bytes), limits: JSONParser.Limits(maxDepth: 128))
    }

    /// A number as Swift prints it (`0.125`, `1e-05`); `null` when not finite.
    static func double(_ value: Double) -> JSONValue { value.isFinite ? .number("\(value)") : .null }

    /// Integers, and fractions that hold an integral value (some SDKs send `256.0`).
    var intValue: Int? {
        guard case .number(let text) = self else { return nil }
        if let int = Int(text) { return int }
        guard let double = Double(text), double.rounded() == double, abs(double) < 1e15 else { return nil }
        return Int(double)
    }
}
