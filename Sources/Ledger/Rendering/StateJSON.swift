import TallyJSON

/// JSON views of replayed state for `tally replay`: the whole ledger as
/// counts and totals, one token, or one user — the same field names the
/// management API uses for tokens (SPEC §4), so an auditor's replay and the
/// dashboard can be compared by eye.
package enum StateJSON {
    /// Counts and totals. `now` decides which tokens count as expired.
    package static func summary(_ state: LedgerState, now: Int64) -> JSONValue {
        let live = state.tokens.values.filter { !$0.deleted }
        var byStatus: [TokenStatus: Int64] = [:]
        for token in live { byStatus[token.status(at: now), default: 0] += 1 }
        return .object([
            ("seq", .int(Int64(bitPattern: state.seq))),
            ("head_hash", .string(state.head.hex)),
            ("time", state.seq == 0 ? .null : .string(RFC3339.format(milliseconds: state.time))),
            ("users", .int(Int64(state.users.count))),
            ("tokens", .int(Int64(live.count))),
            ("tokens_deleted", .int(Int64(state.tokens.count - live.count))),
            ("tokens_by_status", .object(TokenStatus.allCases.map { ($0.rawValue, .int(byStatus[$0] ?? 0)) })),
            ("groups", .int(Int64(state.groups.count))),
            ("prices", .int(Int64(state.prices.count))),
            ("channels", .int(Int64(state.channels.count))),
            ("balance_total", .int(state.users.values.reduce(0) { $0 + $1.balance })),
            ("used_total", .int(state.tokens.values.reduce(0) { $0 + $1.used })),
            ("pending_reservations", .int(Int64(state.pending.count))),
            ("reserved_total", .int(state.pending.values.reduce(0) { $0 + $1.amount })),
        ])
    }

    package static func token(_ t: TokenState, now: Int64) -> JSONValue {
        .object([
            ("id", .string(t.id.description)), ("owner", .string(t.owner.description)), ("name", .string(t.name)),
            ("status", .string(t.deleted ? "deleted" : t.status(at: now).rawValue)),
            ("quota", .optional(t.quota) { .int($0) }), ("used", .int(t.used)), ("remaining", .optional(t.remaining) { .int($0) }),
            ("reserved", .int(t.reserved)), ("in_flight", .int(t.inFlight)),
            ("expires_at", EventJSON.time(t.expiresAt)), ("models", .strings(t.models)), ("ips", .strings(t.ips.map(\.text))),
            ("group", .string(t.group)), ("max_parallel", .optional(t.maxParallel) { .int($0) }), ("key_hint", .string(t.hint)),
            ("created_at", EventJSON.time(t.createdAt)), ("last_used_at", EventJSON.time(t.lastUsedAt)),
            ("budget", budget(t.budgetUse(at: now), reserved: t.reserved)),
        ])
    }

    package static func user(_ u: UserState, tokens: Int, now: Int64) -> JSONValue {
        .object([
            ("id", .string(u.id.description)), ("username", .string(u.username)), ("role", .string(u.role.description)),
            ("group", .string(u.group)), ("enabled", .bool(u.enabled)), ("balance", .int(u.balance)),
            ("reserved", .int(u.reserved)), ("available", .int(u.available)), ("tokens", .int(Int64(tokens))),
            ("created_at", EventJSON.time(u.createdAt)), ("budget", budget(u.budgetUse(at: now), reserved: u.reserved)),
        ])
    }

    /// A periodic budget at an instant (the management API's shape too): the
    /// period's charges (`spent`), the open holds, what is left for new
    /// requests, and when the period resets. Null for none.
    package static func budget(_ use: BudgetUse?, reserved: Int64) -> JSONValue {
        .optional(use) { use in
            .object([
                ("amount", .int(use.budget.amount)), ("period", .string(use.budget.period.description)),
                ("spent", .int(use.spent)), ("reserved", .int(reserved)),
                ("remaining", .int(max(0, use.budget.amount - use.spent - reserved))),
                ("resets_at", EventJSON.time(use.resetsAt)),
            ])
        }
    }

    package static func reservation(_ r: Reservation) -> JSONValue {
        .object([
            ("seq", .int(Int64(bitPattern: r.seq))), ("request_id", .string(r.requestID)), ("token", .string(r.token.description)),
            ("user", .string(r.user.description)), ("model", .string(r.model)), ("amount", .int(r.amount)),
            ("stream", .bool(r.stream)), ("time", .string(RFC3339.format(milliseconds: r.time))),
        ])
    }
}
