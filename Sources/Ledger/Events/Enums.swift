/// Small closed sets that events carry as one byte.

public enum Role: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case user = 0
    case admin = 1
    public var description: String { self == .admin ? "admin" : "user" }
    public init?(name: String) {
        switch name {
        case "admin": self = .admin
        case "user": self = .user
        default: return nil
        }
    }
}

public enum ChannelKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case openai = 0
    case anthropic = 1
    case gemini = 2
    public var description: String { ["openai", "anthropic", "gemini"][Int(rawValue)] }
    public init?(name: String) {
        guard let kind = ChannelKind.allCases.first(where: { $0.description == name }) else { return nil }
        self = kind
    }
}

/// What startup does with a reservation a crash left open.
public enum ExpiryPolicy: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case void = 0
    case settleReserved = 1
    public var description: String { self == .void ? "void" : "settle-reserved" }
    public init?(name: String) {
        guard let p = ExpiryPolicy.allCases.first(where: { $0.description == name }) else { return nil }
        self = p
    }
}

