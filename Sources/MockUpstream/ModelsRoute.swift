import HTTPTypes
import Hummingbird
import TallyJSON

/// `GET /v1/models` (OpenAI list, or Anthropic's when `anthropic-version` is sent),
/// `GET /v1/models/{id}`, and Gemini's `GET /v1beta/models`.
///
/// The list only advertises a few names: every endpoint answers any model name.
enum ModelsRoute {
    /// The advertised mock models, one per behaviour worth discovering.
    static let models = [
        "mock-gpt", "mock-gpt-cached", "mock-claude", "mock-gemini",
        "mock-embedding", "mock-image", "mock-tts", "mock-transcribe", "mock-rerank", "mock-realtime",
        "mock-slow", "mock-no-usage", "mock-abort", "mock-error-500", "mock-error-429",
    ]

    static let created = 1_735_689_600  // 2025-01-01T00:00:00Z, fixed so lists are deterministic.

    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        router.get("/v1/models") { request, _ in
            if request.headers[.anthropicVersion] != nil {
                try authenticate(request, family: .anthropic, apiKey: apiKey)
                let data: [JSONValue] = models.map(anthropicModel)
                return jsonResponse([
                    "data": .array(data),
                    "has_more": false,
                    "first_id": .string(models.first!),
                    "last_id": .string(models.last!),
                ])
            }
            try authenticate(request, family: .openAI, apiKey: apiKey)
            return jsonResponse(["object": "list", "data": .array(models.map(openAIModel))])
        }
        // Same parameter name as the Gemini POST route: Hummingbird needs one name per segment.
        router.get("/v1/models/:target") { request, context in
            let id = context.parameters.get("target") ?? ""
            if request.headers[.anthropicVersion] != nil {
                try authenticate(request, family: .anthropic, apiKey: apiKey)
                return jsonResponse(anthropicModel(id))
            }
            try authenticate(request, family: .openAI, apiKey: apiKey)
            return jsonResponse(openAIModel(id))
        }
        router.get("/v1beta/models") { request, _ in
            try authenticate(request, family: .gemini, apiKey: apiKey)
            let data: [JSONValue] = models.map { id in
                [
                    "name": .string("models/\(id)"),
                    "displayName": .string(id),
                    "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"],
                ]
            }
            return jsonResponse(["models": .array(data)])
        }
    }

    static func openAIModel(_ id: String) -> JSONValue {
        ["id": .string(id), "object": "model", "created": .int(created), "owned_by": "tally-mock"]
    }

    static func anthropicModel(_ id: String) -> JSONValue {
        ["type": "model", "id": .string(id), "display_name": .string(id), "created_at": "2025-01-01T00:00:00Z"]
    }
}
