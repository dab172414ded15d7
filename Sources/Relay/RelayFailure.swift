import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore

/// A refusal or failure the relay answers itself, rendered in the caller's
/// family (SPEC §2 error bodies). Carries one neutral description; `render`
/// picks the family's type/status names so every path produces the same shape.
struct RelayFailure: Error, Sendable {
    enum Kind: Sendable {
        case authentication, permission, invalidRequest, tooLarge, rateLimit, quota, conflict, unavailable, upstream
    }

    var status: HTTPResponse.Status
    var kind: Kind
    var code: String
    var message: String
    var retryAfterSeconds: Int64?

    /// The response body in `family`'s error shape.
    func body(for family: APIFamily) -> [String: Any] {
        switch family {
        case .openai:
            return ["error": ["message": message, "type": openAIType, "code": code, "param": NSNull()] as [String: Any]]
        case .anthropic:
            return ["type": "error", "error": ["type": anthropicType, "message": message]]
        case .gemini:
            return ["error": ["code": status.code, "message": message, "status": geminiStatus] as [String: Any]]
        }
    }

    func response(for family: APIFamily, requestID: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .xRequestID: requestID]
        if let retryAfterSeconds { headers[.retryAfter] = String(max(1, retryAfterSeconds)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONBytes.encode(body(for: family))))
    }

    private var openAIType: String {
        switch kind {
        case .authentication, .permission, .invalidRequest, .tooLarge, .conflict: "invalid_request_error"
        case .rateLimit: "rate_limit_error"
        case .quota: "insufficient_quota"
        case .unavailable, .upstream: "server_error"
        }
    }

    private var anthropicType: String {
        switch kind {
        case .authentication: "authentication_error"
        case .permission: "permission_error"
        case .invalidRequest, .conflict: "invalid_request_error"
        case .tooLarge: "request_too_large"
        case .rateLimit: "rate_limit_error"
        case .quota: "billing_error"
        case .unavailable: "overloaded_error"
        case .upstream: "api_error"
        }
    }

    private var geminiStatus: String {
        switch kind {
        case .authentication: "UNAUTHENTICATED"
        case .permission: "PERMISSION_DENIED"
        case .invalidRequest, .tooLarge: "INVALID_ARGUMENT"
        case .rateLimit, .quota: "RESOURCE_EXHAUSTED"
        case .conflict: "ALREADY_EXISTS"
        case .unavailable: "UNAVAILABLE"
        case .upstream: "INTERNAL"
        }
    }
}

extension RelayFailure {
    /// SPEC §2's admission table: status per failure.
    init(_ failure: AdmissionFailure) {
        let (status, kind): (HTTPResponse.Status, Kind)
        var retry: Int64?
        switch failure {
        case .missingKey, .malformedKey, .unknownKey, .tokenDisabled, .tokenExpired, .ownerDisabled:
            (status, kind) = (.unauthorized, .authentication)
        case .ipNotAllowed, .modelNotAllowed:
            (status, kind) = (.forbidden, .permission)
        case .rateLimited(_, let seconds):
            (status, kind) = (.tooManyRequests, .rateLimit)
            retry = seconds
        case .tooManyParallel:
            (status, kind) = (.tooManyRequests, .rateLimit)
            retry = 1
        case .insufficientQuota:
            (status, kind) = (.tooManyRequests, .quota)
        case .noRoute:
            (status, kind) = (.serviceUnavailable, .unavailable)
        case .duplicateRequestID:
            (status, kind) = (.conflict, .conflict)
        }
        self.init(status: status, kind: kind, code: failure.code, message: failure.message, retryAfterSeconds: retry)
    }

    static func badRequest(_ message: String, code: String = "invalid_request") -> RelayFailure {
        RelayFailure(status: .badRequest, kind: .invalidRequest, code: code, message: message)
    }

    static func tooLarge(limit: Int) -> RelayFailure {
        RelayFailure(status: .contentTooLarge, kind: .tooLarge, code: "request_too_large",
                     message: "The request body is larger than \(limit) bytes. Send a smaller request.")
    }

    static func upstreamUnreachable() -> RelayFailure {
        RelayFailure(status: .badGateway, kind: .upstream, code: "upstream_unreachable",
                     message: "The upstream provider could not be reached. Try again later.")
    }

    static func internalError() -> RelayFailure {
        RelayFailure(status: .internalServerError, kind: .upstream, code: "internal_error",
                     message: "Tally could not record this request. Try again later.")
    }
}

/// JSON through Foundation's dynamic serializer: the relay edits a few fields
/// of bodies whose schema it does not own, so it never decodes them into types.
enum JSONBytes {
    static func encode(_ object: Any) -> ByteBuffer {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    static func object(_ buffer: ByteBuffer) -> [String: Any]? {
        object(Data(buffer.readableBytesView))
    }

    static func object(_ data: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any]
    }

    static func any(_ data: Data) -> Any? {
        try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
