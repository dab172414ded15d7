import TallyJSON

/// A reviewed list of `charge.adjusted` events to append: what
/// `tally reconcile --provider-requests … --plan FILE` writes and
/// `tally adjust --plan FILE` applies (Docs/auditing.md). A person may edit it
/// between the two, so reading it trusts nothing: every field is checked, an
/// unknown one refused, and `Ledger.applyAdjustments` checks each entry
/// against the log before anything is appended.
package struct AdjustmentPlan: Sendable, Equatable {
    package struct Entry: Sendable, Equatable {
        package var requestID: String
        package var token: TokenID
        package var user: UserID
        package var amount: Int64
        /// Also what makes applying twice harmless: an entry whose request already
        /// has an adjustment of this amount and reason is taken as applied.
        package var reason: String

        package init(requestID: String, token: TokenID, user: UserID, amount: Int64, reason: String) {
            self.requestID = requestID; self.token = token; self.user = user; self.amount = amount; self.reason = reason
        }
    }

    static let kind = "tally.charge_adjustments"
    /// The log's head when the plan was made: for the reader, not a condition.
    package var head: UInt64
    package var entries: [Entry]

    package init(head: UInt64, entries: [Entry]) {
        self.head = head; self.entries = entries
    }

    package struct ParseError: Error, CustomStringConvertible {
        package var description: String
    }

    package var json: JSONValue {
        .object([
            ("plan", .string(Self.kind)), ("head", .uint(head)),
            (
                "adjustments",
                .array(
                    entries.map {
                        .object([
                            ("request_id", .string($0.requestID)), ("token", .string($0.token.description)),
                            ("user", .string($0.user.description)), ("amount", .int($0.amount)), ("reason", .string($0.reason)),
                        ])
                    })
            ),
        ])
    }

    package init(bytes: [UInt8]) throws(ParseError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw ParseError(description: "the plan is not JSON: \(error.description)") }
        func fields(_ value: JSONValue, _ allowed: Set<String>, _ place: String) throws(ParseError) -> [String: JSONValue] {
            guard let members = value.objectMembers else { throw ParseError(description: "\(place) must be an object") }
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                guard allowed.contains(key) else { throw ParseError(description: "\(place) has an unknown field \"\(key)\"") }
                out[key] = member
            }
            for key in allowed where out[key] == nil { throw ParseError(description: "\(place) has no \"\(key)\"") }
            return out
        }
        let top = try fields(value, ["plan", "head", "adjustments"], "the plan")
        guard top["plan"]?.stringValue == Self.kind else { throw ParseError(description: "\"plan\" must be \"\(Self.kind)\"") }
        guard let head = top["head"]?.int64, head >= 0 else { throw ParseError(description: "\"head\" must be a sequence number") }
        guard let list = top["adjustments"]?.arrayValue else { throw ParseError(description: "\"adjustments\" must be a list") }
        guard list.count <= Limits.planEntries else { throw ParseError(description: "more than \(Limits.planEntries) adjustments") }
        var entries: [Entry] = []
        var seen: Set<String> = []
        for (i, item) in list.enumerated() {
            let place = "adjustments[\(i)]"
            let f = try fields(item, ["request_id", "token", "user", "amount", "reason"], place)
            guard let requestID = f["request_id"]?.stringValue, Limits.isRequestID(requestID) else {
                throw ParseError(description: "\(place).request_id must be a request id")
            }
            guard seen.insert(requestID).inserted else {
                throw ParseError(description: "\(place): request \(requestID) is adjusted twice in one plan; merge the entries")
            }
            guard let token = f["token"]?.stringValue.flatMap(TokenID.init) else {
                throw ParseError(description: "\(place).token must be a token id")
            }
            guard let user = f["user"]?.stringValue.flatMap(UserID.init) else { throw ParseError(description: "\(place).user must be a user id") }
            guard let amount = f["amount"]?.int64 else { throw ParseError(description: "\(place).amount must be an integer") }
            guard let reason = f["reason"]?.stringValue else { throw ParseError(description: "\(place).reason must be a string") }
            entries.append(Entry(requestID: requestID, token: token, user: user, amount: amount, reason: reason))
        }
        self.init(head: UInt64(head), entries: entries)
    }
}
