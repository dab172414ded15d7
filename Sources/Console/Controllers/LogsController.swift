import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/logs` (a page) and `GET /api/logs/export` (everything matching,
/// streamed as CSV or JSON Lines).
struct LogsController: Sendable {
    let core: ConsoleCore

    /// Rows per export chunk: one read transaction and one write to the socket
    /// each, so memory stays bounded by a chunk whatever the log's size.
    static let exportChunk = 1000

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/logs") { request, _, caller in
            let query = Query(request)
            try query.only(["token", "model", "user", "type", "request", "from", "to", "cursor", "limit"])
            let filter = try LogFilter.parse(query, caller: caller)
            let limit = try query.int("limit", default: 50, range: 1...500)
            let before = try query.uint("cursor")
            try await checkTokenVisible(filter, caller)
            await core.ledger.durable()  // every close the state shows is in the log: a client that has its answer finds its row
            let page = try core.ledger.log.page(filter, before: before, limit: limit)
            let names = try await LogNames.of(page.entries, in: core.ledger)
            return JSONResponse.list(page.entries.map { LogRow($0, names: names).json }, next: page.next.map { String($0) })
        }
        routes.on(.get, "/api/logs/export") { request, _, caller in
            let query = Query(request)
            try query.only(["token", "model", "user", "type", "request", "from", "to", "format"])
            let filter = try LogFilter.parse(query, caller: caller)
            let format = query.string("format") ?? "csv"
            guard format == "csv" || format == "jsonl" else { throw APIError.badRequest("format: must be csv or jsonl.", field: "format") }
            try await checkTokenVisible(filter, caller)
            let body = await LogExport.body(
                ledger: core.ledger, filter: filter, csv: format == "csv",
                chunk: LogsController.exportChunk, logger: core.logger)
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

    /// A user's `?token=` of someone else's token answers 404, as the token itself would.
    private func checkTokenVisible(_ filter: LogQuery, _ caller: Caller) async throws {
        guard let token = filter.token, !caller.isAdmin else { return }
        guard await core.ledger.read({ $0.tokens[token]?.owner }) == caller.id else { throw APIError.notFound("token \(token)") }
    }
}
