/// `TALLY_ADMIN_KEY` becomes the admin's access key, which opens every user,
/// channel and credit, so `tally serve` refuses one that could be guessed
/// (`admin`, `changeme`, a word repeated) instead of starting with it.
///
/// Accepted: 32–256 printable ASCII characters without spaces, at least 9 of
/// them different, and not one shorter string repeated. Every key Tally issues
/// (`tk-` or `sk-` and 48 base62 digits) passes, and so does the output of
/// `openssl rand -hex 16` or `openssl rand -base64 24`.
public enum AdminKeyRule {
    public static let minLength = 32
    /// The longest key the management API reads from `Authorization`.
    public static let maxLength = 256
    public static let minDistinct = 9

    /// Why `key` is refused, or nil when it is acceptable.
    public static func problem(with key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.count >= minLength, bytes.count <= maxLength else {
            return "must be \(minLength)–\(maxLength) characters long (it has \(bytes.count))"
        }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return "must be printable ASCII without spaces" }
        guard Set(bytes).count >= minDistinct, !isRepetition(bytes) else { return "does not look random" }
        return nil
    }

    /// Whether `bytes` is some shorter run written over and over (`abcabcabc…`).
    private static func isRepetition(_ bytes: [UInt8]) -> Bool {
        (1...bytes.count / 2).contains { period in
            bytes.indices.dropFirst(period).allSatisfy { bytes[$0] == bytes[$0 - period] }
        }
    }

    /// What to tell the operator, naming the variable and how to make a good key.
    public static func refusal(_ problem: String) -> String {
        "TALLY_ADMIN_KEY \(problem). Use a key like the ones Tally issues, e.g. TALLY_ADMIN_KEY=tk-$(openssl rand -hex 24), or unset it to have one generated and printed once."
    }
}
