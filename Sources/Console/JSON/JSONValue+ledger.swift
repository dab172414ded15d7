import TallyJSON
import Ledger

extension JSONValue {
    /// The console's JSON value for one built by the ledger's renderers (such
    /// as `Ledger.EventJSON`), so events look the same in `/api/events` and in
    /// `tally export`.
    init(_ value: LedgerJSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .number(String(number))
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let members): self = .object(members.map { ($0.0, JSONValue($0.1)) })
        }
    }
}
