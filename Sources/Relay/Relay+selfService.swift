import Logging
import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// Read-only routes a relay client calls with its own token: the models it may
/// use, and its balance in Tally's and in OpenAI's dashboard formats.
///
/// Credits are shown to OpenAI-style front-ends as dollars at one credit per
/// micro-dollar (`usdPerCredit`), matching prices quoted per million tokens.
extension Relay {
    static let creditsPerUSD: Double = 1_000_000

    /// Steps 1–5 only (these routes read no body and reserve nothing), then
    /// `answer` for the authenticated token; a refusal in `family`'s shape.
    func selfService(_ request: Request, peer: SocketAddress?, family: APIFamily,
                     _ answer: (TokenState, String) async -> Response) async -> Response {
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
            let body: [String: Any]
            if family == .anthropic {
                body = ["data": models.map { ["type": "model", "id": $0, "display_name": $0, "created_at": "1970-01-01T00:00:00Z"] },
                        "has_more": false, "first_id": models.first.map { $0 as Any } ?? NSNull(), "last_id": models.last.map { $0 as Any } ?? NSNull()]
            } else {
                body = ["object": "list", "data": models.map { ["id": $0, "object": "model", "created": 0, "owned_by": "tally"] as [String: Any] }]
            }
            return json(body, requestID: requestID)
        }
    }

    func tokenUsage(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            let (ownerAvailable, models) = await ledger.read { state in
                (max(0, state.users[token.owner]?.available ?? 0), state.models(for: token))
            }
            let available = token.quota.map { min(max(0, $0 - token.used - token.reserved), ownerAvailable) } ?? ownerAvailable
            let body: [String: Any] = [
                "name": token.name,
                "granted": token.quota.map { $0 as Any } ?? NSNull(),
                "used": token.used,
                "available": available,
                "unlimited": token.quota == nil,
                "models": models,
                "expires_at": token.expiresAt.map { RFC3339.format(milliseconds: $0) as Any } ?? NSNull(),
            ]
            return json(body, requestID: requestID)
        }
    }

    func billingSubscription(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            let ownerBalance = await ledger.read { max(0, $0.users[token.owner]?.balance ?? 0) }
            // The limit a front-end shows is what this token could ever spend: its cap, or the owner's balance plus what it used.
            let limit = Double(token.quota ?? (ownerBalance + token.used)) / Self.creditsPerUSD
            let body: [String: Any] = [
                "object": "billing_subscription", "has_payment_method": true,
                "soft_limit_usd": limit, "hard_limit_usd": limit, "system_hard_limit_usd": limit,
                "access_until": (token.expiresAt ?? 0) / 1000,
            ]
            return json(body, requestID: requestID)
        }
    }

    func billingUsage(_ request: Request, peer: SocketAddress?) async -> Response {
        await selfService(request, peer: peer, family: .openai) { token, requestID in
            // OpenAI reports usage in cents.
            json(["object": "list", "total_usage": Double(token.used) / Self.creditsPerUSD * 100], requestID: requestID)
        }
    }

    func json(_ body: [String: Any], status: HTTPResponse.Status = .ok, requestID: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .xRequestID: requestID],
                 body: .init(byteBuffer: JSONBytes.encode(body)))
    }
}
