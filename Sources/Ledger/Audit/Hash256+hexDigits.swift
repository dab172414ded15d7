extension Hash256 {
    /// The same text as `hex` (64 lowercase digits), built without a string
    /// per byte: exports render one per event.
    public var hexDigits: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        for (w, word) in [a, b, c, d].enumerated() {
            for i in 0..<16 { out[w * 16 + i] = digits[Int((word >> (60 - 4 * UInt64(i))) & 0xF)] }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
