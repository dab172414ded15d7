import TallyJSON

/// The prompt half of a reservation: an upper bound of the input tokens a
/// provider can bill for a body, and a likely size for estimated settles.
///
/// The bound is the body's byte count. Providers tokenize with byte-level
/// BPE, where every token covers at least one byte of text, and everything
/// they bill as input (messages, system prompts, tool definitions, JSON
/// schemas, tool results) is text inside the body; the chat template's few
/// tokens per message are fewer than the JSON punctuation around it. Media is
/// the exception both ways: an image's base64 bytes (or its URL) are replaced
/// by the family's documented most tokens per image. Docs/relay.md lists them.
struct PromptBound {
    var tokens: Int64
    var estimate: Int64

    /// The most input tokens one image costs, per family (Docs/relay.md gives the sources).
    static func tokensPerImage(_ family: APIFamily) -> Int64 {
        switch family {
        case .openai: 3_800  // patch-based models: 1,536 patches × 2.46 (gpt-4.1-nano); tiles: 85 + 170 × 8 for gpt-4o
        case .anthropic: 1_600  // ≈ 1.15 megapixels ÷ 750, the largest image Claude keeps unresized
        case .gemini: 1_120  // media_resolution high; 258 per 768×768 tile at default resolution
        }
    }

    /// An uploaded audio file's bound: one token per 64 bytes covers codecs down to
    /// 5 kbit/s at 10 audio tokens a second (providers bill ~10 a second, or per minute).
    static let audioBytesPerToken = 64

    /// Top-level fields whose strings are prompt text (for the estimate).
    static let textFields = [
        "messages", "prompt", "input", "contents", "system", "systemInstruction",
        "instructions", "query", "documents", "tools",
    ]
    /// Keys inside those fields that are markup, not text.
    static let skippedKeys: Set<String> = ["role", "type", "mime_type", "mimeType", "data", "image_url", "url", "id", "name"]

    init(_ object: JSONValue, bodyBytes: Int, family: APIFamily) {
        var media = MediaCount()
        for field in MediaCount.conversationFields { if let value = object[field] { media.walk(value) } }
        let perImage = Self.tokensPerImage(family)
        tokens = max(0, Int64(bodyBytes) - media.bytes) + media.images * perImage
        var text = 0
        for field in Self.textFields { if let value = object[field] { text += Self.textBytes(value) } }
        estimate = Int64((text + 3) / 4) + media.images * perImage
    }

    /// UTF-8 bytes of every string under `value`, skipping markup keys.
    static func textBytes(_ value: JSONValue) -> Int {
        switch value {
        case .string(let string): return string.utf8.count
        case .array(let items): return items.reduce(0) { $0 + textBytes($1) }
        case .object(let members): return members.reduce(0) { skippedKeys.contains($1.0) ? $0 : $0 + textBytes($1.1) }
        default: return 0
        }
    }
}

/// Images in a body, in each family's shapes, and the bytes their payloads
/// (base64 data or a URL) take in the body. Only the conversation is walked:
/// an image-shaped object inside a tool schema is text to the provider, and
/// must not shrink the bound.
struct MediaCount {
    /// Where providers read image parts: chat and Anthropic `messages`, Responses `input`, Gemini `contents`.
    static let conversationFields = ["messages", "input", "contents"]

    var images: Int64 = 0
    var bytes: Int64 = 0

    mutating func walk(_ value: JSONValue) {
        switch value {
        case .array(let items):
            for item in items { walk(item) }
        case .object(let members):
            if let payload = Self.imagePayload(value) {
                images += 1
                bytes += Int64(payload)
                return
            }
            for (_, member) in members { walk(member) }
        default:
            break
        }
    }

    /// The payload bytes of an image part, or nil when `part` is not one:
    /// OpenAI `{"type":"image_url","image_url":{"url"}}` and `{"type":"input_image","image_url"}`,
    /// Anthropic `{"type":"image","source":{"data"|"url"}}`, Gemini `{"inlineData"|"inline_data":{"mimeType":"image/…","data"}}`
    /// and `{"fileData":{"mimeType":"image/…","fileUri"}}`.
    static func imagePayload(_ part: JSONValue) -> Int? {
        switch part["type"]?.stringValue {
        case "image_url": return part["image_url"].map { ($0["url"] ?? $0).stringValue?.utf8.count ?? 0 }
        case "input_image": return (part["image_url"]?.stringValue?.utf8.count ?? 0) + (part["file_id"]?.stringValue?.utf8.count ?? 0)
        case "image":
            guard let source = part["source"] else { return nil }
            return (source["data"]?.stringValue ?? source["url"]?.stringValue ?? "").utf8.count
        default: break
        }
        for key in ["inlineData", "inline_data", "fileData", "file_data"] {
            guard let blob = part[key] else { continue }
            let mime = blob["mimeType"]?.stringValue ?? blob["mime_type"]?.stringValue ?? ""
            guard mime.hasPrefix("image/") else { return nil }
            return (blob["data"]?.stringValue ?? blob["fileUri"]?.stringValue ?? blob["file_uri"]?.stringValue ?? "").utf8.count
        }
        return nil
    }
}
