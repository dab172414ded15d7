/// Why the relay refuses a request, in the order SPEC §2 checks them. The
/// ledger knows no HTTP: the relay maps each case to a status and an error
/// body in the caller's wire format.
package enum AdmissionFailure: Error, Equatable, Sendable {
    case missingKey
    case malformedKey
    case unknownKey
    case tokenDisabled
    case tokenExpired
    case ownerDisabled
    case ipNotAllowed
    case modelNotAllowed(String)
    case rateLimited(limit: String, retryAfterSeconds: Int64)
    case tooManyParallel(limit: Int64)
    case insufficientQuota(Rejection)
    case noRoute(model: String)
    /// A concurrency limit is reached (`ConcurrencyGate`): refused before anything is reserved.
    case overloaded(ConcurrencyGate.Overload)
    /// Every channel serving the model is suspended by its circuit breaker (`ChannelHealth`).
    case channelsSuspended(model: String, retryAfterSeconds: Int64)
    case duplicateRequestID(String)

    /// A short stable code, used in error bodies and `relay.rejected` events.
    package var code: String {
        switch self {
        case .missingKey: "missing_api_key"
        case .malformedKey, .unknownKey: "invalid_api_key"
        case .tokenDisabled: "token_disabled"
        case .tokenExpired: "token_expired"
        case .ownerDisabled: "user_disabled"
        case .ipNotAllowed: "ip_not_allowed"
        case .modelNotAllowed: "model_not_allowed"
        case .rateLimited: "rate_limit_exceeded"
        case .tooManyParallel: "too_many_parallel_requests"
        case .insufficientQuota: "insufficient_quota"
        case .noRoute: "model_not_available"
        case .overloaded: "overloaded"
        case .channelsSuspended: "channels_suspended"
        case .duplicateRequestID: "duplicate_request_id"
        }
    }

    /// What is wrong and what to do. Never contains the presented key.
    package var message: String {
        switch self {
        case .missingKey: "No API key provided. Send your Tally token as a Bearer token (or x-api-key / x-goog-api-key)."
        case .malformedKey: "The API key is malformed. Tally tokens look like sk- followed by at least 40 letters and digits."
        case .unknownKey: "Incorrect API key provided. Check the token in your Tally dashboard."
        case .tokenDisabled: "This token is disabled. Enable it in the Tally dashboard or use another token."
        case .tokenExpired: "This token has expired. Extend its expiry in the Tally dashboard or create a new token."
        case .ownerDisabled: "The account that owns this token is disabled. Contact your Tally administrator."
        case .ipNotAllowed: "Requests from this IP address are not allowed for this token. Add it to the token's IP allowlist."
        case .modelNotAllowed(let model):
            "This token may not use model \(model). Allow it on the token, or use one of the models GET /v1/models lists."
        case .rateLimited(let limit, let retry): "Rate limit reached (\(limit) per minute for this token). Retry after \(retry) seconds."
        case .tooManyParallel(let limit): "Too many parallel requests for this token (limit \(limit)). Wait for one to finish."
        case .insufficientQuota(let rejection): "You exceeded your current quota: \(rejection.description)."
        case .noRoute(let model): "No upstream channel is available for model \(model) right now. Try again later or contact your administrator."
        case .overloaded(.gateway(let limit)):
            "Tally is serving its limit of \(limit) requests at once. Retry in a moment."
        case .overloaded(.channels(let limit)):
            "Every upstream channel for this model is serving its limit of \(limit) requests at once. Retry in a moment."
        case .channelsSuspended(let model, let retry):
            "Every upstream channel for model \(model) is suspended after provider failures. Retry after \(retry) seconds."
        case .duplicateRequestID(let id): "Request id \(id) was already used. Send a new X-Request-Id for a new request."
        }
    }
}
