import HTTPTypes
import Hummingbird
import Ledger
import TallyJSON

/// `GET /api/pricing`: what each model costs the caller, after their group's
/// multiplier — the numbers a token owner needs to predict a bill. Admins may
/// ask for another group with `?group=`, users for a selectable one.
struct PricingController: Sendable {
    let core: ConsoleCore

    func register<Context: RequestContext>(_ routes: APIRoutes<Context>) {
        routes.on(.get, "/api/pricing") { request, _, caller in
            let query = Query(request)
            try query.only(["group"])
            let name = query.string("group") ?? caller.user.group
            let (found, prices) = await core.ledger.read { state in (state.groups[name], state.prices) }
            guard caller.isAdmin || name == caller.user.group || found?.selectable == true else { throw APIError.adminOnly }
            guard let group = found else { throw APIError.notFound("group \(JSONBody.printable(name))") }
            let rows =
                prices
                .filter { group.models.isEmpty || group.models.contains($0.key) }
                .sorted { $0.key < $1.key }
                .map { model, price in PricingController.row(model: model, price: price, multiplier: group.multiplier) }
            return JSONResponse.list(rows, next: nil)
        }
    }

    /// Effective prices are rounded up, as charges are (PriceMath ceilings).
    static func row(model: String, price: Price, multiplier: Multiplier) -> JSONValue {
        func scaled(_ value: Int64) -> JSONValue {
            .int(PriceMath.credits(for: Usage(), price: Price(perRequest: value), multiplier: multiplier))
        }
        var members = Render.priceMembers(model: model, price)
        members.append(("multiplier", .string(multiplier.description)))
        let perRequest = price.perRequest != nil
        members.append(("effective_input", perRequest ? .null : scaled(price.input)))
        members.append(("effective_output", perRequest ? .null : scaled(price.output)))
        members.append(("effective_cached_input", perRequest ? .null : scaled(price.cachedInput)))
        members.append(("effective_cache_write", perRequest ? .null : scaled(price.cacheWrite ?? price.input)))
        members.append(("effective_cache_write_1h", perRequest ? .null : scaled(price.cacheWrite1h ?? price.input)))
        members.append(("effective_audio_input", perRequest ? .null : scaled(price.audioInput ?? price.input)))
        members.append(("effective_audio_output", perRequest ? .null : scaled(price.audioOutput ?? price.output)))
        members.append(("effective_image_input", perRequest ? .null : scaled(price.imageInput ?? price.input)))
        members.append(("effective_image_output", perRequest ? .null : scaled(price.imageOutput ?? price.output)))
        members.append(("effective_per_request", .optional(price.perRequest) { scaled($0) }))
        members.append(("effective_per_web_search", .optional(price.perWebSearch) { scaled($0) }))
        members.append(("effective_per_web_fetch", .optional(price.perWebFetch) { scaled($0) }))
        members.append(("effective_per_file_search", .optional(price.perFileSearch) { scaled($0) }))
        return .object(members)
    }
}
