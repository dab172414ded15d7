import Hummingbird
import Logging
import NIOCore

/// Gemini puts the model and the method in one path segment
/// (`models/gemini-2.0-flash:streamGenerateContent`); the rest is the shared pipeline.
extension Relay {
    func relayGemini(_ request: Request, peer: SocketAddress?, prefix: String, target: String) async -> Response {
        let parts = target.split(separator: ":", maxSplits: 1)
        let kind: Endpoint.Kind? =
            parts.count == 2 ? ["generateContent": .geminiGenerate, "streamGenerateContent": .geminiStream][String(parts[1])] : nil
        guard let kind, let model = parts.first, !model.isEmpty else {
            let failure = RelayFailure(
                status: .notFound, kind: .invalidRequest, code: "not_found",
                message: "Unknown Gemini method. Use models/{model}:generateContent or :streamGenerateContent.")
            return failure.response(for: .gemini, requestID: RequestID.generate())
        }
        let endpoint = Endpoint(kind: kind, path: "/v1beta/models/\(target)")
        return await relay(request, peer: peer, endpoint: endpoint, pathModel: String(model), upstreamPath: "/v1beta/models/\(target)")
    }
}
