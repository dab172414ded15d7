/// Every bound the commands enforce, with its reason.
public enum Limits {
    /// Names people type and lists show.
    public static let nameBytes = 64
    /// Model names: providers use up to ~100 characters (fine-tune ids).
    public static let modelBytes = 128
    /// Request ids travel in a header and index keys (LMDB keys ≤ 511 bytes).
    public static let requestIDBytes = 128
    /// Entries in a token's or group's model list or IP allowlist.
    public static let listEntries = 256
    /// Any credit amount: 10^15 is far beyond any bill and far from overflow when summed.
    public static let credits: Int64 = 1_000_000_000_000_000
    /// Requests or tokens per minute.
    public static let perMinute: Int64 = 1_000_000_000
    /// Parallel requests per token.
    public static let parallel: Int64 = 100_000
    /// Channel priority and weight ranges.
    public static let priority: ClosedRange<Int64> = -1_000_000...1_000_000
    public static let weight: ClosedRange<Int64> = 0...1_000_000
    /// Free-text reasons and notes.
    public static let noteBytes = 512
    /// A URL an operator configures.
    public static let urlBytes = 2048
}
