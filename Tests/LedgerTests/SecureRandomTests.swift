import Testing

@testable import Ledger

/// The buffered CSPRNG behind request ids and secrets: never hands the same
/// bytes out twice (across refills too) and stays uniform enough for base62.
@Suite struct SecureRandomTests {
    @Test func drawsAcrossManyRefillsNeverRepeat() {
        var generator = SecureRandom()
        var seen = Set<UInt64>()
        // 20,000 draws = 160,000 bytes ≈ 39 refills of the 4 KiB pool.
        for _ in 0..<20_000 { seen.insert(generator.next()) }
        #expect(seen.count == 20_000)
    }

    @Test func bytesAreRoughlyUniform() {
        let bytes = SecureRandom.bytes(256 * 400)
        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes { counts[Int(byte)] += 1 }
        // Expected 400 per value; a stuck or zero-filled pool lands far outside these bounds.
        #expect(counts.min()! > 250 && counts.max()! < 560)
    }

    @Test func base62IdsAreDistinctAndInAlphabet() {
        let ids = (0..<5_000).map { _ in Base62.random(count: 20) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.utf8.count == 20 && $0.utf8.allSatisfy { Base62.digitValue($0) != nil } })
    }
}
