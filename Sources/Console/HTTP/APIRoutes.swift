import HTTPTypes
import Hummingbird
import Ledger
import Logging
import TallyJSON

/// Registers management routes with the checks they all share: the caller
/// is authenticated (401), admin routes refuse users (403), and every error
/// — a ledger `Rejection`, an `APIError`, or a bug — becomes the JSON error
/// shape. A bug is logged and answers 500 without its details.
struct APIRoutes<Context: RequestContext> {
    /// `passwordPending`: also open to a session that must first replace a
    /// generated password (`Caller.passwordChangeRequired`); the other two are not.
    enum Access { case signedIn, admin, passwordPending }

    let router: Router<Context>
    let core: ConsoleCore

    typealias Handler = @Sendable (Request, Context, Caller) async throws -> Response

    func on(_ method: HTTPRequest.Method, _ path: RouterPath, _ access: Access = .signedIn, _ handler: @escaping Handler) {
        let core = self.core
        router.on(path, method: method) { request, context -> Response in
            do {
                let caller = try await core.authenticator.caller(for: request)
                if caller.passwordChangeRequired, access != .passwordPending { throw APIError.passwordChangeRequired }
                if access == .admin, !caller.isAdmin { throw APIError.adminOnly }
                return try await handler(request, context, caller)
            } catch {
                return APIRoutes.render(error, core: core, request: request)
            }
        }
    }

    /// A route that does its own authentication (sign-in).
    func open(_ method: HTTPRequest.Method, _ path: RouterPath, _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        let core = self.core
        router.on(path, method: method) { request, context -> Response in
            do {
                return try await handler(request, context)
            } catch {
                return APIRoutes.render(error, core: core, request: request)
            }
        }
    }

    /// Any other `/api/…` path answers a JSON 404 rather than an empty one.
    func fallback() {
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("/api/**", method: method) { _, _ -> Response in
                APIError(.notFound, code: "not_found", "No such API route. See Docs/openapi.yaml for the routes Tally serves.").response
            }
        }
    }

    static func render(_ error: any Error, core: ConsoleCore, request: Request) -> Response {
        switch error {
        case let error as APIError: return error.response
        case let rejection as Rejection: return APIError.from(rejection).response
        case LogError.halted:
            // Fails closed: the ledger refuses writes until a restart replays the durable log.
            core.logger.error("management write refused: the ledger is halted", metadata: ["path": "\(request.uri.path)"])
            return APIError(
                .serviceUnavailable, code: "ledger_unavailable",
                "The ledger is not accepting changes after a storage failure; an operator must restart Tally."
            ).response
        case let unavailable as ControlUnavailable:
            core.logger.warning("management write refused", metadata: ["path": "\(request.uri.path)", "reason": "\(unavailable.reason)"])
            return APIError(
                .serviceUnavailable, code: "cluster_unavailable", unavailable.description + ". Nothing was changed; the gateway keeps relaying."
            ).response
        default:
            core.logger.error("management request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIError(.internalServerError, code: "internal_error", "The server failed to handle this request; it has been logged.").response
        }
    }
}

extension RequestContext {
    /// A path parameter, percent-decoded (model names may hold `/` or `:`).
    func parameter(_ name: String) -> String {
        PercentDecoding.decode(parameters.get(name) ?? "") ?? ""
    }
}

enum PercentDecoding {
    /// `%XX` decoded; nil when an escape is broken or the result is not UTF-8.
    static func decode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard bytes.count >= 2, let hi = hex(bytes.popFirst()!), let lo = hex(bytes.popFirst()!) else { return nil }
                out.append(hi << 4 | lo)
            } else {
                out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: b - 48
        case 65...70: b - 55
        case 97...102: b - 87
        default: nil
        }
    }
}
