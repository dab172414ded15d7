import HTTPTypes
import Hummingbird
import TallyJSON

/// Azure OpenAI, as a resource answers it: the deployment in the path
/// (`/openai/deployments/{deployment}/chat/completions`), `?api-version=`
/// required, the key in the `api-key` header (a Bearer key is refused), and a
/// streamed chat that opens with Azure's prompt-filter chunk (`choices: []`,
/// no usage). The deployment name is the model the fault rules read; the
/// Responses API takes the deployment as the body's `model`
/// (`/openai/responses`).
enum AzureRoutes {
    static let apiKeyHeader = HTTPField.Name("api-key")!

    static func add(to router: Router<MockRequestContext>, apiKey: String) {
        let deployments = "/openai/deployments/:deployment"
        router.post("\(deployments)/chat/completions") { request, context in
            let (body, deployment) = try await read(request, context: context, apiKey: apiKey)
            return try await OpenAIRoutes.answer(
                OpenAIRoutes.generation(body, kind: .chat, model: deployment), body: body, kind: .chat, context: context,
                leading: [promptFilterChunk])
        }
        router.post("\(deployments)/completions") { request, context in
            let (body, deployment) = try await read(request, context: context, apiKey: apiKey)
            return try await OpenAIRoutes.answer(
                OpenAIRoutes.generation(body, kind: .text, model: deployment), body: body, kind: .text, context: context)
        }
        router.post("\(deployments)/embeddings") { request, context in
            let (body, deployment) = try await read(request, context: context, apiKey: apiKey)
            return try await OpenAIMediaRoutes.embeddingsAnswer(body, model: deployment, context: context)
        }
        router.post("\(deployments)/images/generations") { request, context in
            let (body, deployment) = try await read(request, context: context, apiKey: apiKey)
            return try await OpenAIMediaRoutes.imagesAnswer(body, model: deployment, context: context)
        }
        router.post("\(deployments)/audio/speech") { request, context in
            let (body, deployment) = try await read(request, context: context, apiKey: apiKey)
            return try await OpenAIMediaRoutes.speechAnswer(body, model: deployment, context: context)
        }
        router.post("/openai/responses") { request, context in
            let (body, _) = try await read(request, context: context, apiKey: apiKey)
            return try await ResponsesRoute.answer(body, model: try PromptText.model(body, family: .openAI), context: context)
        }
    }

    /// Checks the key and the API version; returns the body and the deployment.
    static func read(_ request: Request, context: MockRequestContext, apiKey: String) async throws -> (JSONValue, String) {
        guard request.headers[apiKeyHeader] == apiKey else {
            throw MockHTTPError(
                .openAI, status: .unauthorized,
                message:
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key in the api-key header.")
        }
        guard let version = request.uri.queryParameters.get("api-version"), !version.isEmpty else {
            throw MockHTTPError(.openAI, status: .notFound, message: "Resource not found (the api-version query parameter is required).")
        }
        let body = try await readJSONBody(request, context: context, family: .openAI)
        return (body, context.parameters.get("deployment") ?? "")
    }

    /// The first event of an Azure chat stream: the prompt's content-filter results, no choices, no usage.
    static let promptFilterChunk = SSE.data([
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": [
            [
                "prompt_index": 0,
                "content_filter_results": [
                    "hate": ["filtered": false, "severity": "safe"], "self_harm": ["filtered": false, "severity": "safe"],
                    "sexual": ["filtered": false, "severity": "safe"], "violence": ["filtered": false, "severity": "safe"],
                ],
            ]
        ],
    ])
}
