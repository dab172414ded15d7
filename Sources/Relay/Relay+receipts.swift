import HTTPTypes
import Hummingbird
import Ledger
import Logging
import NIOCore

/// `GET /v1/receipts/{request_id}`: a relay client fetches the receipt of a
/// request it made, with the same token (Docs/auditing.md, "Receipts"). Any
/// other request id — unknown, or another token's — is the same 404, so ids
/// cannot be probed. The body is the receipt's canonical document, byte for
/// byte what `tally receipt verify` checks.
extension Relay {
    func receipt(_ request: Request, peer: SocketAddress?, requestID wanted: String) async -> Response {
        let family: APIFamily =
            request.headers[.xGoogAPIKey] != nil || request.uri.queryParameters.get("key") != nil
            ? .gemini : request.headers[.anthropicVersion] != nil ? .anthropic : .openai
        return await selfService(request, peer: peer, family: family) { token, requestID in
            let notFound = RelayFailure(
                status: .notFound, kind: .invalidRequest, code: "receipt_not_found",
                message: "No request \(wanted) was made with this token. Receipts are served to the token that made the request.")
            func invalidHead(_ error: Ledger.NotACheckpoint) -> Response {
                RelayFailure(
                    status: .badRequest, kind: .invalidRequest, code: "invalid_head",
                    message: "head: \(error.description). Name a checkpoint's sequence number, or leave head out."
                ).response(for: family, requestID: requestID)
            }
            let receipt: Receipt?
            let head: UInt64?
            do {
                head = try Self.receiptHead(request)
                receipt = try await ledger.receipt(requestID: wanted, head: head)
            } catch let error as Ledger.NotACheckpoint {
                return invalidHead(error)
            } catch {
                logger.error("could not read a receipt", metadata: ["request_id": "\(wanted)", "error": "\(error)"])
                return RelayFailure.internalError().response(for: family, requestID: requestID)
            }
            guard let receipt, receipt.isReserved(by: { $0.token == token.id }) else {
                return notFound.response(for: family, requestID: requestID)
            }
            if let early = Ledger.NotACheckpoint.tooEarly(head, for: receipt) { return invalidHead(early) }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store", .xRequestID: requestID],
                body: .init(byteBuffer: ByteBuffer(bytes: receipt.bytes)))
        }
    }
}

extension Relay {
    /// `?head=SEQ`: the checkpoint the proof should end at (nil: the newest); a value that is no number, or a repeated
    /// `head`, names no checkpoint (as the console refuses it): the proof never ends where the client did not mean.
    static func receiptHead(_ request: Request) throws -> UInt64? {
        let values = request.uri.queryParameters.getAll("head")
        guard let text = values.first else { return nil }
        guard values.count == 1, let seq = UInt64(text) else { throw Ledger.NotACheckpoint(seq: 0) }
        return seq
    }
}

extension Response {
    /// This response naming its request's close (`X-Tally-Receipt`), when the close returned one.
    func receipt(_ value: String?) -> Response {
        var response = self
        if let value { response.headers[.xTallyReceipt] = value }
        return response
    }
}
