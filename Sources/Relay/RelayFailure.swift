import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import TallyJSON

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
    func body(for family: APIFamily) -> JSONValue {
        switch family {
        case .openai:
            return .object([
                (
                    "error",
                    .object([
                        ("message", .string(message)), ("type", .string(openAIType)), ("code", .string(code)),
                        ("param", .null),
                    ])
                )
            ])
        case .anthropic:
            return .object([("type", .string("error")), ("error", .object([("type", .string(anthropicType)), ("message", .string(message))]))])
        case .gemini:
            return .object([("error", .object([("code", .int(status.code)), ("message", .string(message)), ("status", .string(geminiStatus))]))])
        }
    }

    func response(for family: APIFamily, requestID: String) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .xRequestID: requestID]
        if let retryAfterSeconds { headers[.retryAfter] = String(max(1, retryAfterSeconds)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: body(for: family).byteBuffer))
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
        case .overloaded:
            // 503 in every family (SPEC names no status; Anthropic's own overload is 529, which SDKs retry the same way).
            (status, kind) = (.serviceUnavailable, .unavailable)
            retry = 1
        case .channelsSuspended(_, let seconds):
            (status, kind) = (.serviceUnavailable, .unavailable)
            retry = seconds
        case .duplicateRequestID:
            (status, kind) = (.conflict, .conflict)
        }
        self.init(status: status, kind: kind, code: failure.code, message: failure.message, retryAfterSeconds: retry)
    }

    static func badRequest(_ message: String, code: String = "invalid_request") -> RelayFailure {
        RelayFailure(status: .badRequest, kind: .invalidRequest, code: code, message: message)
    }

    static func tooLarge(limit: Int) -> RelayFailure {
        RelayFailure(
            status: .contentTooLarge, kind: .tooLarge, code: "request_too_large",
            message: "The request body is larger than \(limit) bytes. Send a smaller request.")
    }

    static func upstreamUnreachable() -> RelayFailure {
        RelayFailure(
            status: .badGateway, kind: .upstream, code: "upstream_unreachable",
            message: "The upstream provider could not be reached. Try again later.")
    }

    /// A request the server's shutdown cancelled before its upstream answered.
    static func shuttingDown() -> RelayFailure {
        RelayFailure(
            status: .serviceUnavailable, kind: .unavailable, code: "shutting_down",
            message: "Tally is shutting down and stopped this request before the provider answered. Send it again.")
    }

    static func internalError() -> RelayFailure {
        RelayFailure(
            status: .internalServerError, kind: .upstream, code: "internal_error",
            message: "Tally could not record this request. Try again later.")
    }
}

extension JSONValue {
    /// The compact serialization, as a response body.
    var byteBuffer: ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }
}
