import Ledger
import TallyJSON

extension JSONBody {
    /// `budget`: absent (keep), null (none), or `{"amount": credits, "period":
    /// "day"|"week"|"month"}` with nothing else. The amount's range is the
    /// ledger's to check (422); a wrong shape is 400 here.
    func budget(_ key: String = "budget") throws(APIError) -> Field<Budget> {
        switch raw(key) {
        case nil: return .absent
        case .null?: return .null
        case .object(let members)?:
            let shape = "an object {\"amount\": credits, \"period\": \"day\", \"week\" or \"month\"}"
            guard members.allSatisfy({ $0.0 == "amount" || $0.0 == "period" }) else {
                throw APIError.badRequest("\(key): must be \(shape).", field: key, code: "invalid_type")
            }
            let inner = JSONBody(members: members)
            guard case .value(let amount) = try inner.int("amount"), case .value(let name) = try inner.string("period") else {
                throw APIError.badRequest("\(key): must be \(shape).", field: key, code: "invalid_type")
            }
            guard let period = BudgetPeriod(name: name) else {
                throw APIError.invalid("\(key).period", "must be day, week or month")
            }
            return .value(Budget(amount: amount, period: period))
        default:
            throw APIError.badRequest("\(key): must be an object or null.", field: key, code: "invalid_type")
        }
    }
}
