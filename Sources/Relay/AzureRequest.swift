import Ledger

/// Where an Azure OpenAI resource answers each OpenAI endpoint: the
/// deployment (the channel's model map, else the public name) in the path,
/// the channel's `api-version` in the query. The Responses API is not per
/// deployment: it takes the deployment as the body's `model` (the model map
/// puts it there). Rerank is no Azure OpenAI API, so an Azure channel cannot
/// serve it.
enum AzureRequest {
    /// `path?query` below the resource's base URL, or nil for an endpoint Azure OpenAI does not have.
    static func target(_ kind: Endpoint.Kind, deployment: String, apiVersion: String) -> String? {
        let deployed = "/openai/deployments/\(deployment)"
        let path: String
        switch kind {
        case .chat: path = deployed + "/chat/completions"
        case .completions: path = deployed + "/completions"
        case .embeddings: path = deployed + "/embeddings"
        case .images: path = deployed + "/images/generations"
        case .speech: path = deployed + "/audio/speech"
        case .transcriptions: path = deployed + "/audio/transcriptions"
        case .responses: path = "/openai/responses"
        case .rerank, .messages, .geminiGenerate, .geminiStream: return nil
        }
        return path + "?api-version=" + apiVersion
    }

    /// The resource's base URL without a trailing `/openai` (operators paste either form).
    static func base(_ url: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/openai") { base.removeLast("/openai".count) }
        return base
    }
}
