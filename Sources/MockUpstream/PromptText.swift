import HTTPTypes
import TallyJSON

/// Reads what the deterministic rules need from a request body, the same way for
/// every family: all text it carries (prompt tokens) and its output cap (K).
enum PromptText {
    /// All text in `value`, joined by spaces.
    ///
    /// Follows strings, arrays, and the `text`, `content` and `parts` fields of
    /// objects, which covers OpenAI `messages[].content` (string or text parts),
    /// `prompt` / `input` (string, array, Responses input items), Anthropic
    /// `system` / `messages` (string or blocks, tool results) and Gemini
    /// `contents[].parts[].text` / `systemInstruction`. Roles, images and tool
    /// definitions are not text and are skipped. A bare integer inside an array is a
    /// token id (OpenAI token-array prompts) and counts as one word.
    static func of(_ values: JSONValue?...) -> String {
        values.flatMap { collect($0) }.joined(separator: " ")
    }

    private static func collect(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s)?: return [s]
        case .array(let items)?:
            return items.flatMap { item -> [String] in
                if item.intValue != nil { return ["0"] }
                return collect(item)
            }
        case .object?:
            return ["text", "content", "parts"].flatMap { collect(value?[$0]) }
        default: return []
        }
    }

    /// The first integer among `keys` (e.g. `max_completion_tokens` before `max_tokens`).
    static func maxTokens(_ body: JSONValue, _ keys: String...) -> Int? {
        for key in keys {
            if let value = body[key]?.intValue { return value }
        }
        return nil
    }

    /// The `model` field, or a 400 in the caller's family (as the providers answer).
    static func model(_ body: JSONValue, family: Family) throws -> String {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw MockHTTPError(family, status: .badRequest, message: "You must provide a model parameter.")
        }
        return model
    }
}
