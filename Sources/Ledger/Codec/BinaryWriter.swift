/// Appends the primitives of Tally's binary encoding: LEB128 varints (zigzag for
/// signed), length-prefixed UTF-8, fixed big-endian words. Deterministic: the
/// same value always gives the same bytes, which the hash chain relies on.
package struct BinaryWriter {
    package private(set) var bytes: [UInt8]

    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func byte(_ value: UInt8) { bytes.append(value) }

    package mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    package mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zigzag: small magnitudes of either sign stay short.
    package mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func optionalSigned(_ value: Int64?) {
        if let value { bool(true); signed(value) } else { bool(false) }
    }

    /// A fixed list of optional values: a varint mask (bit i set = value i
    /// present), then the present values in order; one byte when none is.
    mutating func maskedSigned(_ values: [Int64?]) {
        var mask: UInt64 = 0
        for (bit, value) in values.enumerated() where value != nil { mask |= 1 << UInt64(bit) }
        varint(mask)
        for case let value? in values { signed(value) }
    }

    /// Eight bytes in one append: the writer seals hashes and keys with this for every event.
    mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func string(_ value: String) {
        var copy = value
        copy.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    package mutating func strings(_ values: [String]) {
        varint(UInt64(values.count))
        for value in values { string(value) }
    }

    package mutating func hash(_ value: Hash256) {
        fixed64(value.a); fixed64(value.b); fixed64(value.c); fixed64(value.d)
    }

    package mutating func raw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    /// Bytes written so far.
    var count: Int { bytes.count }

    /// Writes what `body` writes behind its length as a varint, in this same
    /// buffer: no second writer for the length-prefixed part.
    mutating func lengthPrefixed(_ body: (inout BinaryWriter) -> Void) {
        let start = bytes.count
        body(&self)
        let end = bytes.count
        varint(UInt64(end - start))
        // Move the varint (at most 10 bytes) from the end to before the body.
        var prefix: (UInt64, UInt64) = (0, 0)
        let length = bytes.count - end
        withUnsafeMutableBytes(of: &prefix) { prefix in
            for i in 0..<length { prefix[i] = bytes[end + i] }
            bytes.removeLast(length)
            bytes.insert(contentsOf: UnsafeRawBufferPointer(rebasing: prefix[..<length]), at: start)
        }
    }
}
