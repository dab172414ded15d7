import HTTPTypes
import Hummingbird
import Ledger
import Logging
import TallyJSON

/// `GET /api/logs` (a page) and `GET /api/logs/export` (everything matching,
/// streamed as CSV or JSON Lines).
struct LogsController: Sendable {
    let core: ConsoleCore

    /// Rows per export chunk: one read transaction and one write to the socket
    /// each, so memory stays bounded by a chunk whatever the log's size.
    static let exportChunk = 1000
    /// Names the first event a pruned log keeps.
    static let logStart = HTTPField.Name("X-Tally-Log-Start")!

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/logs") { request, _, caller in
            let query = Query(request)
            try query.only(["token", "model", "user", "type", "request", "provider_request", "from", "to", "cursor", "limit"])
            let filter = try LogFilter.parse(query, caller: caller)
            let limit = try query.int("limit", default: 50, range: 1...500)
            let before = try query.uint("cursor")
            try await checkTokenVisible(filter, caller)
            await core.ledger.durable()  // every close the state shows is in the log: a client that has its answer finds its row
            let page = try await Self.page(
                filter, before: before, limit: limit, ledger: core.ledger, archives: core.archivedLog, logger: core.logger)
            let names = try await LogNames.of(page, in: core.ledger)
            var response = JSONResponse.list(page.entries.map { LogRow($0, names: names).json }, next: page.next.map { String($0) })
            // A pruned log's pages end at its first event; say where (Docs/auditing.md, "Pruning closed periods").
            if let start = try core.ledger.log.start(), start.isPruned { response.headers[Self.logStart] = String(start.first) }
            return response
        }
        routes.on(.get, "/api/logs/export") { request, _, caller in
            let query = Query(request)
            try query.only(["token", "model", "user", "type", "request", "provider_request", "from", "to", "format"])
            let filter = try LogFilter.parse(query, caller: caller)
            let format = query.string("format") ?? "csv"
            guard format == "csv" || format == "jsonl" else { throw APIError.badRequest("format: must be csv or jsonl.", field: "format") }
            try await checkTokenVisible(filter, caller)
            let body = await LogExport.body(
                ledger: core.ledger, filter: filter, csv: format == "csv", chunk: LogsController.exportChunk, logger: core.logger,
                archives: core.archivedLog)
            let stamp = RFC3339.day(milliseconds: core.now())
            return Response(
                status: .ok,
                headers: [
                    .contentType: format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson",
                    .contentDisposition: "attachment; filename=\"tally-logs-\(stamp).\(format)\"",
                    .cacheControl: "no-store",
                ], body: body)
        }
    }

    /// One page of the whole log, the pruned part read from the archives
    /// (`ArchivedLog`); an archive that cannot be read answers 503, never a short page.
    static func page(
        _ filter: LogQuery, before: UInt64?, limit: Int, ledger: Ledger, archives: ArchivedLog, logger: Logger
    ) async throws -> ArchivedLog.Page {
        do {
            return try await archives.page(filter, before: before, limit: limit, live: ledger.log)
        } catch let failure as ArchivedLog.Failure {
            logger.error("archived logs unreadable", metadata: ["reason": "\(failure)"])
            throw APIError(
                .serviceUnavailable, code: "archive_unavailable",
                "These rows were pruned from the live log, and their archive cannot be read: an operator must restore DATA/archive (`tally verify` names what is wrong)."
            )
        }
    }

    /// A user's `?token=` of someone else's token answers 404, as the token itself would.
    private func checkTokenVisible(_ filter: LogQuery, _ caller: Caller) async throws {
        guard let token = filter.token, !caller.isAdmin else { return }
        guard await core.ledger.read({ $0.tokens[token]?.owner }) == caller.id else { throw APIError.notFound("token \(token)") }
    }
}
