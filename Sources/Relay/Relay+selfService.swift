import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore
import TallyJSON

/// Read-only routes a relay client calls with its own token: the models it may
/// use, and its balance in Tally's and in OpenAI's dashboard formats.
///
/// Credits are shown to OpenAI-style front-ends as dollars at one credit per
/// micro-dollar (`usdPerCredit`), matching prices quoted per million tokens.
extension Relay {
    static let creditsPerUSD: Double = 1_000_000

    /// Steps 1–5 only (these routes read no body and reserve nothing), then
    /// `answer` for the authenticated token; a refusal in `family`'s shape.
    func selfService(
        _ request: Request, peer: SocketAddress?, family: APIFamily,
        _ answer: (TokenState, String) async -> Response
    ) async -> Response {
        let requestID = RequestID.accept(request.headers[.xRequestID]) ?? RequestID.generate()
        let clientIP = ClientAddress.resolve(peer: peer, headers: request.headers, trusted: configuration.trustedProxies)
        switch await ledger.authenticate(key: family.presentedKey(in: request), clientIP: clientIP) {
        case .failure(let failure): return RelayFailure(failure).response(for: family, requestID: requestID)
        case .success(let token): return await answer(token, requestID)
        }
    }

    func listModels(_ request: Request, peer: SocketAddress?) async -> Response {
        let family: APIFamily = request.headers[.anthropicVersion] != nil ? .anthropic : .openai
        return await selfService(request, peer: peer, family: family) { token, requestID in
            let models = await ledger.read { $0.models(for: token) }
            let body: JSONValue
            if family == .anthropic {
                let data = models.map {
                    JSONValue.object([
                        ("type", .string("model")), ("id", .string($0)), ("display_name", .string($0)),
                        ("created_at", .string("1970-01-01T00:00:00Z")),
                    ])
                }
                body = .object([
                    ("data", .array(data)), ("has_more", .bool(false)), ("first_id", .optional(models.first, JSONValue.string)),
                    ("last_id", .optional(models.last, JSONValue.string)),
                ])
            } else {
                let data = models.map {
                    JSONValue.object([("id", .string($0)), ("object", .string("model")), ("created", .int(0)), ("owned_by", .string("tally"))])
                }
                body = .object([("object", .string("list")), ("data", .array(data))])
            }
            return json(body, requestID: requestID)
        }
    }

    func tokenUsage(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            let (ownerAvailable, models) = await ledger.read { state in
                (max(0, state.users[token.owner]?.available ?? 0), state.models(for: token))
            }
            let budgets = await ledger.budgets(of: token.id)
            let withinQuota = token.quota.map { min(max(0, $0 - token.used - token.reserved), ownerAvailable) } ?? ownerAvailable
            let available = budgets.left.map { min($0, withinQuota) } ?? withinQuota
            let body = JSONValue.object([
                ("name", .string(token.name)),
                ("granted", .optional(token.quota, JSONValue.int)),
                ("used", .int(token.used)),
                ("available", .int(available)),
                ("unlimited", .bool(token.quota == nil)),
                ("models", .strings(models)),
                ("expires_at", .optional(token.expiresAt) { .string(RFC3339.format(milliseconds: $0)) }),
                ("budget", budgets.token),
                ("user_budget", budgets.user),
            ])
            return json(body, requestID: requestID)
        }
    }

    func billingSubscription(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            let ownerBalance = await ledger.read { max(0, $0.users[token.owner]?.balance ?? 0) }
            // The limit a front-end shows is what this token could ever spend: its cap, or the owner's balance plus what it used.
            let limit = Double(token.quota ?? (ownerBalance + token.used)) / Self.creditsPerUSD
            let body = JSONValue.object([
                ("object", .string("billing_subscription")), ("has_payment_method", .bool(true)),
                ("soft_limit_usd", .dollars(limit)), ("hard_limit_usd", .dollars(limit)), ("system_hard_limit_usd", .dollars(limit)),
                ("access_until", .int((token.expiresAt ?? 0) / 1000)),
            ])
            return json(body, requestID: requestID)
        }
    }

    func billingUsage(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            // OpenAI reports usage in cents.
            json(
                .object([("object", .string("list")), ("total_usage", .dollars(Double(token.used) / Self.creditsPerUSD * 100))]), requestID: requestID
            )
        }
    }

    func json(_ body: JSONValue, status: HTTPResponse.Status = .ok, requestID: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .xRequestID: requestID], body: .init(byteBuffer: body.byteBuffer))
    }
}

extension JSONValue {
    /// An amount in dollars or cents, as Swift writes a `Double` (`0.005`, `1.0`,
    /// `1e-06`: each a JSON number). Only for display: credits stay integers.
    static func dollars(_ amount: Double) -> JSONValue {
        amount.isFinite ? .number(String(amount)) : .null
    }
}
