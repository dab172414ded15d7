/// Checks of a channel's routing options, beside `setChannel`'s basic ones.
extension Validate {
    /// The model map: each key a model the channel serves (a mapping of a model
    /// it does not serve could never be used, so it is a mistake to report),
    /// each value a model name. A provider that takes the model in the URL path
    /// (Gemini, an Azure deployment) gets only path-safe names, so a mapping can
    /// never change which path is called. Identity mappings are dropped.
    static func modelMap(_ map: [String: String], models: [String], kind: ChannelKind) throws(Rejection) -> [String: String] {
        let field = "model_map"
        guard map.count <= Limits.listEntries else { throw .invalid(field: field, "must have at most \(Limits.listEntries) entries") }
        var clean: [String: String] = [:]
        for (model, upstream) in map.sorted(by: { $0.key < $1.key }) {
            guard models.contains(model) else {
                throw .invalid(field: field, "maps \(model), which is not in the channel's models; add it there or remove the mapping")
            }
            _ = try Validate.model(upstream, field: field)
            if kind.takesModelInPath, !upstream.utf8.allSatisfy(isPathSafe) {
                throw .invalid(field: field, "\(kind) model names go in the URL path: use letters, digits, '-', '_' or '.'")
            }
            if upstream != model { clean[model] = upstream }
        }
        return clean
    }

    static func isPathSafe(_ byte: UInt8) -> Bool {
        Base62.digitValue(byte) != nil || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// Azure's `api-version`: required by every Azure call, so an Azure channel
    /// gets the current GA version when none is given; other types have none.
    static func apiVersion(_ version: String?, kind: ChannelKind) throws(Rejection) -> String? {
        guard kind == .azure else {
            guard version == nil else { throw .invalid(field: "api_version", "applies to azure channels only") }
            return nil
        }
        guard let version else { return azureDefaultAPIVersion }
        guard !version.isEmpty, version.utf8.count <= 64, version.utf8.allSatisfy(isPathSafe) else {
            throw .invalid(field: "api_version", "must be an Azure API version such as \(azureDefaultAPIVersion)")
        }
        return version
    }

    /// The Azure OpenAI GA API version an Azure channel uses when none is given.
    static let azureDefaultAPIVersion = "2024-10-21"

    /// An Azure deployment is named in the URL path: every model an Azure
    /// channel serves must reach it under a path-safe name (its mapping, else itself).
    static func deployments(of channel: ChannelDefinition) throws(Rejection) {
        guard channel.kind == .azure else { return }
        for model in channel.models where !channel.upstreamModel(for: model).utf8.allSatisfy(isPathSafe) {
            throw .invalid(
                field: "model_map", "azure deployments go in the URL path: map \(model) to a deployment name of letters, digits, '-', '_' or '.'")
        }
    }
}

extension ChannelKind {
    /// Providers whose URL path names the model (Gemini's `models/{model}:…`, an Azure deployment).
    var takesModelInPath: Bool { self == .gemini || self == .azure }
}
