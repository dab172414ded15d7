import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import TallyJSON

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
    /// `mock-abort-early`: a stream's head is sent, then the connection drops before its first event.
    let abortEarly: Bool
    /// A 500 that still reports the usage of the work done (a provider that bills a failure).
    let billedError: Bool
    /// The response head (streamed or not) only after `lateHeadDelay`.
    let lateHead: Bool
    /// `mock-flaky-N`: the first N requests naming this model (on this mock) answer 500, later ones succeed.
    let flakyFailures: Int?
    /// `mock-lag`: nothing at all (not even headers) for `lagFirstByte`, streamed or not.
    let lag: Bool
    /// `mock-stall`: a stream sends its first event, then nothing for `stallGap`.
    let stall: Bool
    let model: String

    init(model: String) {
        self.model = model
        status500 = model.contains("mock-error-500")
        status429 = model.contains("mock-error-429")
        status401 = model.contains("mock-error-401")
        quotaExhausted = model.contains("mock-error-quota")
        status400 = model.contains("mock-error-400")
        slow = model.contains("mock-slow")
        noUsage = model.contains("mock-no-usage")
        abort = model.contains("mock-abort")
        abortEarly = model.contains("mock-abort-early")
        billedError = model.contains("mock-error-billed")
        lateHead = model.contains("mock-late-head")
        lag = model.contains("mock-lag")
        stall = model.contains("mock-stall")
        flakyFailures = model.range(of: "mock-flaky-").flatMap { Int(model[$0.upperBound...].prefix { $0.isNumber }) }
    }

    /// Pause before a non-streamed answer of a `mock-slow` model.
    static let slowFirstByte: Duration = .milliseconds(1500)
    /// Pause before each streamed event of a `mock-slow` model.
    static let slowChunkGap: Duration = .milliseconds(150)
    /// Pause before any byte of a `mock-late-head` model's answer.
    static let lateHeadDelay: Duration = .milliseconds(1500)
    /// Pause before a `mock-lag` model's answer begins.
    static let lagFirstByte: Duration = .seconds(6)
    /// Pause after a `mock-stall` stream's first event.
    static let stallGap: Duration = .seconds(10)

    /// The error a faulty model answers with instead of a result, if any;
    /// `usage` (the family's usage object of the answer) goes into a billed error.
    func error(_ family: Family, usage: JSONValue? = nil) -> MockHTTPError? {
        if billedError {
            return MockHTTPError(
                family, status: .internalServerError,
                message: "The mock upstream failed after generating, and billed it (model mock-error-billed).", usage: usage)
        }
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
    /// family error (a billed one with `usage`), `mock-late-head` and `mock-lag`
    /// wait, `mock-flaky-N` fails its first N requests; for non-streamed answers
    /// `mock-abort` drops the connection and `mock-slow` waits. Streams apply
    /// `slow`/`abort` per chunk instead (see `SSE`).
    func beforeAnswering(_ family: Family, streaming: Bool, context: MockRequestContext, usage: JSONValue? = nil) async throws {
        if let error = error(family, usage: usage) { throw error }
        if lateHead { try await Task.sleep(for: Fault.lateHeadDelay) }
        if lag { try await Task.sleep(for: Fault.lagFirstByte) }
        if let flakyFailures, FlakyCount.next(model, port: context.channel.localAddress?.port ?? 0) <= flakyFailures {
            throw MockHTTPError(
                family, status: .internalServerError, message: "The mock upstream failed on purpose (model \(model)); it recovers later.")
        }
        guard !streaming else { return }
        if abort {
            try? await context.channel.close()
            throw MockAbort()
        }
        if slow { try await Task.sleep(for: Fault.slowFirstByte) }
    }
}

/// How many requests each `mock-flaky-N` model has had, per mock (its port), so
/// a test's mock starts from zero whatever other mocks in the process saw.
enum FlakyCount {
    private static let counts = Mutex<[String: Int]>([:])

    /// Counts one more request for `model`; returns its number (1 for the first).
    static func next(_ model: String, port: Int) -> Int {
        counts.withLock { counts in
            let key = "\(port) \(model)"
            counts[key, default: 0] += 1
            return counts[key]!
        }
    }
}
