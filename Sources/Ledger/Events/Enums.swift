/// Small closed sets that events carry as one byte.

package enum Role: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case user = 0
    case admin = 1
    package var description: String { self == .admin ? "admin" : "user" }
    package init?(name: String) {
        switch name {
        case "admin": self = .admin
        case "user": self = .user
        default: return nil
        }
    }
}

package enum ChannelKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case openai = 0
    case anthropic = 1
    case gemini = 2
    /// Azure OpenAI: the OpenAI wire format at a resource's deployment paths, keyed by `api-key`.
    case azure = 3
    package var description: String { ["openai", "anthropic", "gemini", "azure"][Int(rawValue)] }

    /// The wire format the channel speaks, which decides the requests it can serve
    /// (Tally forwards without translating): Azure speaks OpenAI's.
    package var wireFormat: ChannelKind { self == .azure ? .openai : self }
    package init?(name: String) {
        guard let kind = ChannelKind.allCases.first(where: { $0.description == name }) else { return nil }
        self = kind
    }
}

/// What startup does with a reservation a crash left open.
package enum ExpiryPolicy: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case void = 0
    case settleReserved = 1
    package var description: String { self == .void ? "void" : "settle-reserved" }
    package init?(name: String) {
        guard let p = ExpiryPolicy.allCases.first(where: { $0.description == name }) else { return nil }
        self = p
    }
}
