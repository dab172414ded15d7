import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// Model prices (admin), credits per million tokens or per request.
struct PricesController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/prices", .admin) { _, _, _ in
            let prices = await core.ledger.read { state in state.prices.sorted { $0.key < $1.key } }
            return JSONResponse.list(prices.map { Render.price(model: $0.key, $0.value) }, next: nil)
        }
        routes.on(.get, "/api/prices/{model}", .admin) { _, context, _ in
            let model = context.parameter("model")
            guard let price = await core.ledger.read({ $0.prices[model] }) else { throw APIError.notFound("price for \(JSONBody.printable(model))") }
            return JSONResponse.make(Render.price(model: model, price))
        }
        routes.on(.put, "/api/prices/{model}", .admin) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: PricesController.fields)
            let price = try PricesController.price(body)
            let model = context.parameter("model")
            let existed = await core.ledger.read { $0.prices[model] != nil }
            try await core.ledger.setPrice(model, price, by: caller.actor)
            return JSONResponse.make(Render.price(model: model, price), status: existed ? .ok : .created)
        }
        routes.on(.delete, "/api/prices/{model}", .admin) { _, context, caller in
            try await core.ledger.removePrice(context.parameter("model"), by: caller.actor)
            return JSONResponse.noContent()
        }
    }

    /// Token prices besides `input` and `output`, each optional; none of them goes with `per_request`.
    static let tokenParts = ["cached_input", "cache_write", "cache_write_1h", "audio_input", "audio_output", "image_input", "image_output"]
    /// Per-call prices of server-side tools, each optional; they go with token prices or `per_request`.
    static let perCall = ["per_web_search", "per_web_fetch", "per_file_search"]
    static let fields = Set(["input", "output", "per_request", "max_output"] + tokenParts + perCall)

    /// Either token prices (`input`, `output`, optional `cached_input`
    /// defaulting to `input`, optional cache-write, audio and image prices that
    /// bill as input or output while unset) or `per_request` alone; either with
    /// optional per-call tool prices and `max_output` (the model's output
    /// window, the reservation's default bound).
    static func price(_ body: JSONBody) throws -> Price {
        var price = try billingPrice(body)
        price.perWebSearch = try amount(body, "per_web_search")
        price.perWebFetch = try amount(body, "per_web_fetch")
        price.perFileSearch = try amount(body, "per_file_search")
        // null, like absent, leaves the model without a cap: a PUT replaces the whole price.
        if let maxOutput = try body.int("max_output").value {
            guard (1...Limits.outputTokens).contains(maxOutput) else {
                throw APIError.invalid("max_output", "must be between 1 and \(Limits.outputTokens) tokens")
            }
            price.maxOutput = maxOutput
        }
        return price
    }

    /// A price field: absent is nil, anything but a whole number in 0…`Price.maximum` a 400 or 422.
    private static func amount(_ body: JSONBody, _ key: String) throws -> Int64? {
        guard let value = try body.notNull(key, body.int(key)) else { return nil }
        guard value >= 0, value <= Price.maximum else { throw APIError.invalid(key, "must be between 0 and \(Price.maximum) credits") }
        return value
    }

    private static func billingPrice(_ body: JSONBody) throws -> Price {
        if let perRequest = try amount(body, "per_request") {
            for key in ["input", "output"] + tokenParts where body.has(key) {
                throw APIError.invalid(key, "a per-request price cannot also have token prices")
            }
            return Price(perRequest: perRequest)
        }
        guard let input = try amount(body, "input") else {
            throw APIError.badRequest("input: is required (or give per_request).", field: "input", code: "missing_field")
        }
        guard let output = try amount(body, "output") else {
            throw APIError.badRequest("output: is required (or give per_request).", field: "output", code: "missing_field")
        }
        return Price(
            input: input, output: output, cachedInput: try amount(body, "cached_input") ?? input,
            cacheWrite: try amount(body, "cache_write"), cacheWrite1h: try amount(body, "cache_write_1h"),
            audioInput: try amount(body, "audio_input"), audioOutput: try amount(body, "audio_output"),
            imageInput: try amount(body, "image_input"), imageOutput: try amount(body, "image_output"))
    }
}
