import HTTPTypes
import Hummingbird
import NIOCore

/// Failure behaviours selected by the model name, so gateway tests can provoke
/// each upstream failure mode without any configuration.
struct Fault: Sendable {
    let status500: Bool
    let status429: Bool
    let status401: Bool
    let quotaExhausted: Bool
    let status400: Bool
    let slow: Bool
    let noUsage: Bool
    let abort: Bool

    init(model: String) {
        status500 = model.contains("mock-error-500")
        status429 = model.contains("mock-error-429")
        status401 = model.contains("mock-error-401")
        quotaExhausted = model.contains("mock-error-quota")
        status400 = model.contains("mock-error-400")
        slow = model.contains("mock-slow")
        noUsage = model.contains("mock-no-usage")
        abort = model.contains("mock-abort")
    }

    /// Pause before a non-streamed answer of a `mock-slow` model.
    static let slowFirstByte: Duration = .milliseconds(1500)
    /// Pause before each streamed event of a `mock-slow` model.
    static let slowChunkGap: Duration = .milliseconds(150)

    /// The error a faulty model answers with instead of a result, if any.
    func error(_ family: Family) -> MockHTTPError? {
        if status500 {
            return MockHTTPError(family, status: .internalServerError, message: "The mock upstream failed on purpose (model mock-error-500).")
        }
        if status401 {
            // As OpenAI answers a revoked key: the (masked) key is echoed back.
            return MockHTTPError(
                family, status: .unauthorized,
                message: "Incorrect API key provided: sk-mock****-key. You can find your API key in your account settings.")
        }
        if quotaExhausted {
            return MockHTTPError(
                family, status: .tooManyRequests,
                message: "You exceeded your current quota, please check your plan and billing details (insufficient_quota).")
        }
        if status400 {
            return MockHTTPError(
                family, status: .badRequest,
                message: "Invalid value for 'temperature' (model mock-error-400); request signed with sk-live-0123456789abcdef.")
        }
        if status429 {
            return MockHTTPError(
                family, status: .tooManyRequests, message: "Rate limit reached on purpose (model mock-error-429). Retry after 1 second.")
        }
        return nil
    }
}

extension Fault {
    /// Applies the fault before any byte is answered: error models throw their
    /// family error; for non-streamed answers `mock-abort` drops the connection and
    /// `mock-slow` waits. Streams apply `slow`/`abort` per chunk instead (see `SSE`).
    func beforeAnswering(_ family: Family, streaming: Bool, context: MockRequestContext) async throws {
        if let error = error(family) { throw error }
        guard !streaming else { return }
        if abort {
            try? await context.channel.close()
            throw MockAbort()
        }
        if slow { try await Task.sleep(for: Fault.slowFirstByte) }
    }
}
