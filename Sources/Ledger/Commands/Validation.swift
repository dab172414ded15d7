/// Field checks shared by the commands. Each returns the cleaned value or
/// throws a `Rejection.invalid` naming the field.
enum Validate {
    static func name(_ value: String, field: String = "name") throws(Rejection) -> String {
        guard !value.isEmpty else { throw .invalid(field: field, "must not be empty") }
        guard value.utf8.count <= Limits.nameBytes else { throw .invalid(field: field, "must be at most \(Limits.nameBytes) bytes") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field: field, "must not contain control characters")
        }
        return value
    }

    /// Identifiers used in URLs and configuration: usernames, group names.
    static func identifier(_ value: String, field: String) throws(Rejection) -> String {
        guard !value.isEmpty, value.utf8.count <= Limits.identifierBytes,
            value.utf8.allSatisfy({ Base62.digitValue($0) != nil || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else { throw .invalid(field: field, "must be 1–\(Limits.identifierBytes) characters of letters, digits, '-', '_' or '.'") }
        return value
    }

    static func model(_ value: String, field: String = "model") throws(Rejection) -> String {
        guard Limits.isModelName(value) else {
            throw .invalid(field: field, "must be 1–\(Limits.modelBytes) printable ASCII characters without spaces")
        }
        return value
    }

    static func requestID(_ value: String) throws(Rejection) -> String {
        guard Limits.isRequestID(value) else {
            throw .invalid(field: "request_id", "must be 1–\(Limits.requestIDBytes) printable ASCII characters without spaces")
        }
        return value
    }

    static func credits(_ value: Int64, field: String, allowZero: Bool = true) throws(Rejection) -> Int64 {
        guard value >= (allowZero ? 0 : 1), value <= Limits.credits else {
            throw .invalid(field: field, "must be \(allowZero ? "between 0" : "between 1") and \(Limits.credits) credits")
        }
        return value
    }

    /// A token's cap: nil (unlimited) or a credit amount.
    static func quota(_ value: Int64?) throws(Rejection) -> Int64? {
        guard let value else { return nil }
        return try credits(value, field: "quota")
    }

    /// A periodic budget: nil (none) or 1–`Limits.credits` credits a period.
    static func budget(_ value: Budget?) throws(Rejection) -> Budget? {
        guard let value else { return nil }
        return Budget(amount: try credits(value.amount, field: "budget.amount", allowZero: false), period: value.period)
    }

    /// A token's parallel-request cap: nil (none) or 1–`Limits.parallel`.
    static func maxParallel(_ value: Int64?) throws(Rejection) -> Int64? {
        try optionalRange(value, field: "max_parallel", 1...Limits.parallel)
    }

    /// A correction (`balance.adjusted`, `charge.adjusted`): a non-zero amount
    /// within `Limits.credits` either way, and a reason.
    static func adjustment(_ amount: Int64, reason: String) throws(Rejection) -> (amount: Int64, reason: String) {
        guard amount != 0, amount.magnitude <= Limits.credits.magnitude else {
            throw .invalid(field: "amount", "must be non-zero and at most \(Limits.credits) in size")
        }
        guard !reason.isEmpty else { throw .invalid(field: "reason", "an adjustment needs a reason") }
        return (amount, try note(reason, field: "reason"))
    }

    static func note(_ value: String, field: String) throws(Rejection) -> String {
        guard value.utf8.count <= Limits.noteBytes else { throw .invalid(field: field, "must be at most \(Limits.noteBytes) bytes") }
        return value
    }

    static func list<T>(_ values: [String], field: String, _ check: (String) throws(Rejection) -> T) throws(Rejection) -> [T] {
        guard values.count <= Limits.listEntries else { throw .invalid(field: field, "must have at most \(Limits.listEntries) entries") }
        var out: [T] = []
        for value in values { out.append(try check(value)) }
        return out
    }

    /// A model list (a group's, a token's, a channel's).
    static func models(_ values: [String]) throws(Rejection) -> [String] {
        try list(values, field: "models") { (m: String) throws(Rejection) in try model(m, field: "models") }
    }

    static func optionalRange(_ value: Int64?, field: String, _ range: ClosedRange<Int64>) throws(Rejection) -> Int64? {
        guard let value else { return nil }
        guard range.contains(value) else { throw .invalid(field: field, "must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }
}
