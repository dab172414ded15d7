import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/receipts/{request_id}`: a request's receipt for the owner of the
/// token that made it, or any admin (support answering a disputed charge).
/// Another user's request answers 404, as an unknown one does. The body is the
/// same canonical document `GET /v1/receipts/{request_id}` serves.
struct ReceiptsController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/receipts/{request_id}") { request, context, caller in
            let query = Query(request)
            try query.only(["head"])
            let head = try query.uint("head")
            let requestID = context.parameter("request_id")
            let found: Receipt?
            do { found = try await core.ledger.receipt(requestID: requestID, head: head) } catch let error as Ledger.NotACheckpoint {
                throw APIError.badRequest("head: \(error.description); ask GET /api/ledger/head for one.", field: "head")
            }
            guard let receipt = found, receipt.isReserved(by: { caller.isAdmin || $0.user == caller.id }) else {
                throw APIError.notFound("request \(JSONBody.printable(requestID))")
            }
            if let early = Ledger.NotACheckpoint.tooEarly(head, for: receipt) {
                throw APIError.badRequest("head: \(early.description); ask GET /api/ledger/head for a later one.", field: "head")
            }
            return JSONResponse.make(receipt.json)
        }
    }
}
