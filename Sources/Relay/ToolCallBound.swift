import Ledger
import TallyJSON

/// The server-side tool calls a request allows, the third part of its
/// reservation (Docs/billing.md, "Reservation"): the provider bills each web
/// search, web fetch or file search per call, outside the tokens, so the hold
/// covers the most calls the request lets the provider make, at the dearest
/// per-call price.
///
/// The provider keeps to a cap the request names: Anthropic's `max_uses` on
/// each `web_search_…`/`web_fetch_…` tool, the Responses API's `max_tool_calls`
/// when a `web_search…` or `file_search` tool is offered. A request offering
/// such a tool without its cap gets `Limits.defaultToolCalls` written in, so
/// no request can run calls its hold does not cover. A cap outside
/// 1…`Limits.toolCalls` is a 400.
struct ToolCallBound {
    /// The most billable tool calls the provider may run for the request; 0 when it offers none.
    var calls: Int64 = 0

    init(_ object: JSONValue, kind: Endpoint.Kind, edit: inout BodyEdit) throws(RelayFailure) {
        switch kind {
        case .messages:
            guard let tools = object["tools"]?.arrayValue else { return }
            var capped = tools
            for (index, tool) in tools.enumerated() {
                guard let type = tool["type"]?.stringValue, type.hasPrefix("web_search_") || type.hasPrefix("web_fetch_"),
                    var members = tool.objectMembers
                else { continue }
                if let uses = try OutputBound.count(tool["max_uses"], field: "max_uses", in: 1...Limits.toolCalls) {
                    calls += uses
                } else {
                    members.removeAll { $0.0 == "max_uses" }
                    capped[index] = .object(members + [("max_uses", .int(Limits.defaultToolCalls))])
                    calls += Limits.defaultToolCalls
                }
            }
            guard calls <= Limits.toolCalls else {
                throw .badRequest(
                    "The request's server tools allow \(calls) calls; at most \(Limits.toolCalls) are allowed (the sum of max_uses).",
                    code: "invalid_max_uses")
            }
            if capped != tools { edit.set("tools", .array(capped)) }
        case .responses:
            let billable = object["tools"]?.arrayValue?.contains { tool in
                guard let type = tool["type"]?.stringValue else { return false }
                return type.hasPrefix("web_search") || type == "file_search"
            }
            guard billable == true else { return }
            if let cap = try OutputBound.count(object["max_tool_calls"], field: "max_tool_calls", in: 1...Limits.toolCalls) {
                calls = cap
            } else {
                edit.set("max_tool_calls", .int(Limits.defaultToolCalls))
                calls = Limits.defaultToolCalls
            }
        default:
            return
        }
    }
}
