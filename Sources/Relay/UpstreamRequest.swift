import Foundation
import HTTPTypes
import Hummingbird
import Ledger
import NIOCore
import NIOHTTP1
import UpstreamHTTP

/// Builds the call to one channel: its URL, its own key in its family's header,
/// its configured extra headers and OpenAI organization/project, and a short
/// allowlist of the client's headers. Every other client header — above all
/// its Tally token — stays in Tally.
enum UpstreamRequest {
    /// Client headers worth passing on; everything else is dropped.
    static let forwarded: [HTTPField.Name] = [.contentType, .accept, .userAgent, .anthropicVersion, .anthropicBeta, .openAIBeta]

    /// nil when `channel` cannot serve `endpoint` (Azure has no rerank).
    /// `model`: the name the channel's provider knows (its model map applied).
    static func make(
        channel: ChannelDefinition, key: String, endpoint: Endpoint, upstreamPath: String, model: String, query: String?,
        clientHeaders: HTTPFields, body: ByteBuffer, requestID: String
    ) -> UpstreamClient.Request? {
        var url: String
        if channel.kind == .azure {
            guard let target = AzureRequest.target(endpoint.kind, deployment: model, apiVersion: channel.apiVersion ?? "") else { return nil }
            url = AzureRequest.base(channel.baseURL) + target
        } else {
            url = Self.url(base: channel.baseURL, path: upstreamPath)
            if let query, !query.isEmpty { url += "?" + query }
        }

        var request = UpstreamClient.Request(url: url)
        request.connectTimeout = channel.connectTimeoutMs.map { .milliseconds($0) }
        for name in forwarded {
            for value in clientHeaders[values: name] { request.headers.add(name: name.rawName, value: value) }
        }
        switch channel.kind {
        case .openai:
            request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(key)")
        case .anthropic:
            request.headers.replaceOrAdd(name: "x-api-key", value: key)
            if clientHeaders[.anthropicVersion] == nil { request.headers.add(name: "anthropic-version", value: "2023-06-01") }
        case .gemini:
            request.headers.replaceOrAdd(name: "x-goog-api-key", value: key)
        case .azure:
            request.headers.replaceOrAdd(name: "api-key", value: key)
        }
        // The channel's own extra headers (validated: never a credential, framing or the request id).
        for (name, value) in channel.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let organization = channel.organization { request.headers.replaceOrAdd(name: "OpenAI-Organization", value: organization) }
        if let project = channel.project { request.headers.replaceOrAdd(name: "OpenAI-Project", value: project) }
        if clientHeaders[.contentType] == nil { request.headers.add(name: "Content-Type", value: "application/json") }
        request.headers.add(name: "X-Request-Id", value: requestID)
        request.body = body
        return request
    }

    /// A channel's base URL joined to an API path. Base URLs are written with or
    /// without trailing slashes and with or without the version segment
    /// (`…/v1`, `…/v1beta`); the segment is not doubled.
    static func url(base: String, path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        var path = path
        if base.hasSuffix("/v1"), path.hasPrefix("/v1/") { path.removeFirst(3) }
        if base.hasSuffix("/v1beta"), path.hasPrefix("/v1beta/") { path.removeFirst(7) }
        return base + path
    }

    /// The only query Tally forwards: Gemini's `alt=sse` / `alt=json` (the
    /// stream's framing). Everything else stays here — `?key=` carries the Tally
    /// token, and system parameters such as `fields=` or `alt=proto` would strip
    /// or encode away the usage the charge is read from.
    static func query(of request: Request) -> String? {
        guard let query = request.uri.query, !query.isEmpty else { return nil }
        let kept = query.split(separator: "&").filter { $0 == "alt=sse" || $0 == "alt=json" }
        return kept.isEmpty ? nil : kept.joined(separator: "&")
    }
}
