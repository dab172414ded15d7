/// Why bytes could not be decoded. Carries where, so a corrupt event is named.
package struct BinaryDecodingError: Error, CustomStringConvertible, Equatable {
    package var reason: String
    package var offset: Int
    package var description: String { "cannot decode: \(reason) at byte \(offset)" }
}

/// Reads what `BinaryWriter` wrote, bounds-checked at every step: a truncated or
/// garbled value is an error, never a crash or an out-of-range read.
package struct BinaryReader: ~Copyable {
    let buffer: UnsafeRawBufferPointer
    package private(set) var offset = 0

    package init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var isAtEnd: Bool { offset == buffer.count }

    func fail(_ reason: String) -> BinaryDecodingError { BinaryDecodingError(reason: reason, offset: offset) }

    package mutating func byte() throws(BinaryDecodingError) -> UInt8 {
        guard offset < buffer.count else { throw fail("unexpected end") }
        defer { offset += 1 }
        return buffer[offset]
    }

    package mutating func bool() throws(BinaryDecodingError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw fail("boolean out of range")
        }
    }

    package mutating func varint() throws(BinaryDecodingError) -> UInt64 {
        // Most varints (lengths, small counts, flags) are one byte.
        if offset < buffer.count, buffer[offset] < 0x80 {
            defer { offset += 1 }
            return UInt64(buffer[offset])
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64, !(shift == 63 && b > 1) else { throw fail("varint overflow") }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    package mutating func signed() throws(BinaryDecodingError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func optionalSigned() throws(BinaryDecodingError) -> Int64? {
        try bool() ? try signed() : nil
    }

    /// The presence mask `BinaryWriter.maskedSigned` wrote for a list of
    /// `count` values; a mask bit past them is refused. The values follow, read
    /// in bit order with `signed(ifIn:bit:)` (no array: every settle has two lists).
    mutating func presenceMask(count: Int) throws(BinaryDecodingError) -> UInt64 {
        let mask = try varint()
        guard mask >> UInt64(count) == 0 else { throw fail("unknown fields in mask") }
        return mask
    }

    /// The next value of a masked list when `bit` is set in `mask`, else nil.
    mutating func signed(ifIn mask: UInt64, bit: Int) throws(BinaryDecodingError) -> Int64? {
        guard mask & (1 << UInt64(bit)) != 0 else { return nil }
        return try signed()
    }

    mutating func fixed64() throws(BinaryDecodingError) -> UInt64 {
        guard buffer.count - offset >= 8 else { throw fail("unexpected end") }
        let value = UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
        return value
    }

    /// Length limit for any one string: far above any name, model or reason we write.
    static let maxStringBytes = 1 << 20

    package mutating func string() throws(BinaryDecodingError) -> String {
        let count = try varint()
        guard count <= UInt64(BinaryReader.maxStringBytes), UInt64(buffer.count - offset) >= count else { throw fail("string length out of range") }
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + Int(count))]).assumingMemoryBound(to: UInt8.self)
        // Ids, models and names are ASCII: decoding them needs no validation
        // (and the generic validating initializer is replay's slowest step).
        let text: String
        if bytes.allSatisfy({ $0 < 0x80 }) {
            text = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let valid = String(validating: bytes, as: UTF8.self) else { throw fail("invalid UTF-8") }
            text = valid
        }
        offset += Int(count)
        return text
    }

    package mutating func strings() throws(BinaryDecodingError) -> [String] {
        let count = try varint()
        guard count <= UInt64(buffer.count - offset) else { throw fail("list length out of range") }
        var values: [String] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count { values.append(try string()) }
        return values
    }

    package mutating func hash() throws(BinaryDecodingError) -> Hash256 {
        Hash256(a: try fixed64(), b: try fixed64(), c: try fixed64(), d: try fixed64())
    }

    /// The next `count` bytes, not copied: valid as long as the buffer read.
    package mutating func slice(_ count: Int) throws(BinaryDecodingError) -> UnsafeRawBufferPointer {
        guard count >= 0, buffer.count - offset >= count else { throw fail("unexpected end") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    /// The next `count` bytes, copied.
    package mutating func raw(_ count: Int) throws(BinaryDecodingError) -> [UInt8] {
        guard count >= 0, buffer.count - offset >= count else { throw fail("unexpected end") }
        defer { offset += count }
        return Array(buffer[offset..<(offset + count)])
    }
}
