import LedgerTesting
import Testing

@testable import Ledger

/// Multiplier parsing and printing.
@Suite struct MultiplierTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1", 1_000_000), ("0.5", 500_000), ("1.25", 1_250_000), ("1.234567", 1_234_567),
        ("0.000001", 1), ("1000", 1_000_000_000), ("1000.000000", 1_000_000_000), ("007", 7_000_000), ("2.50", 2_500_000),
    ])
    func parsesDecimals(text: String, micros: Int64) {
        #expect(Multiplier(decimal: text)?.micros == micros)
    }

    @Test(arguments: [
        "", ".", "1.", ".5", "-1", "+1", "1e3", "1.2345678", "1000.000001", "10000", "1,5", " 1", "1 ", "1..2",
        "0x10", "١", "NaN", "inf", "99999999999999999999",
    ])
    func refusesEverythingElse(text: String) {
        #expect(Multiplier(decimal: text) == nil)
    }

    @Test(arguments: [Int64(0), 1, 10, 500_000, 1_000_000, 1_250_000, 1_234_567, 999_999_999, 1_000_000_000])
    func descriptionReadsBack(micros: Int64) {
        let multiplier = Multiplier(micros: micros)
        #expect(Multiplier(decimal: multiplier.description) == multiplier)
    }

    @Test func descriptionIsShortest() {
        #expect(Multiplier(micros: 1_000_000).description == "1")
        #expect(Multiplier(micros: 1_500_000).description == "1.5")
        #expect(Multiplier(micros: 1).description == "0.000001")
        #expect(Multiplier.one.micros == Multiplier.scale)
    }
}

/// SPEC §2's price formula in integers.
@Suite struct PriceMathTests {
    @Test func roundsUpToTheNextCredit() {
        let price = Price(input: 1, output: 1)  // one credit per million tokens
        #expect(PriceMath.credits(for: Usage(promptTokens: 1), price: price, multiplier: .one) == 1)
        #expect(PriceMath.credits(for: Usage(promptTokens: 1_000_000), price: price, multiplier: .one) == 1)
        #expect(PriceMath.credits(for: Usage(promptTokens: 1_000_001), price: price, multiplier: .one) == 2)
        #expect(PriceMath.credits(for: Usage(), price: price, multiplier: .one) == 0)
        #expect(PriceMath.credits(for: Usage(promptTokens: 5), price: price, multiplier: Multiplier(micros: 0)) == 0)
    }

    @Test func appliesThePricesAndTheMultiplierBeforeRounding() {
        let price = Price(input: 3_000_000, output: 15_000_000, cachedInput: 300_000)  // 3, 15 and 0.3 credits per token
        // 1000 prompt of which 400 cached, 200 output: 600×3 + 400×0.3 + 200×15 = 1800 + 120 + 3000 = 4920.
        let usage = Usage(promptTokens: 1_000, cachedTokens: 400, completionTokens: 200)
        #expect(PriceMath.credits(for: usage, price: price, multiplier: .one) == 4_920)
        #expect(PriceMath.credits(for: usage, price: price, multiplier: Multiplier(decimal: "1.5")!) == 7_380)
        // ×0.333333 = 1639.99836 → 1640.
        #expect(PriceMath.credits(for: usage, price: price, multiplier: Multiplier(decimal: "0.333333")!) == 1_640)
        // Cached tokens are part of the prompt: more cached than prompt counts as all cached.
        let allCached = Usage(promptTokens: 10, cachedTokens: 50)
        #expect(PriceMath.credits(for: allCached, price: price, multiplier: .one) == 3)
    }

    @Test func perRequestPricesIgnoreTokens() {
        let price = Price(input: 1_000_000, output: 1_000_000, perRequest: 3)
        #expect(PriceMath.credits(for: Usage(promptTokens: 1_000_000, completionTokens: 5), price: price, multiplier: .one) == 3)
        #expect(PriceMath.credits(for: Usage(), price: price, multiplier: Multiplier(decimal: "1.5")!) == 5)  // ceil(4.5)
        #expect(PriceMath.credits(for: Usage(), price: Price(perRequest: 0), multiplier: .one) == 0)
    }

    /// Cache writes, audio and web searches at their own prices (Docs/billing.md);
    /// unset prices are the input's (the output's for audio output), and an unset
    /// web-search price charges nothing.
    @Test func eachUsagePartHasItsPrice() {
        let usage = UsagePartsSample.usage, price = UsagePartsSample.price
        #expect(PriceMath.credits(for: usage, price: price, multiplier: .one) == UsagePartsSample.credits)
        #expect(PriceMath.credits(for: usage, price: price, multiplier: Multiplier(decimal: "0.5")!) == 15_680)
        // Unset: writes and audio input at 1, audio output at 4, searches free: 900×1 + 100×0.1 + 300×4.
        let plain = Price(input: 1_000_000, output: 4_000_000, cachedInput: 100_000)
        #expect(PriceMath.credits(for: usage, price: plain, multiplier: .one) == UsagePartsSample.creditsAsPlainTokens)
        // A per-request model still pays its searches.
        #expect(PriceMath.credits(for: usage, price: Price(perRequest: 40, perWebSearch: 10), multiplier: Multiplier(decimal: "1.5")!) == 90)
        // Without the parts, the formula is the one before them.
        let withoutParts = Usage(promptTokens: 1_000, cachedTokens: 100, completionTokens: 300)
        #expect(PriceMath.credits(for: withoutParts, price: price, multiplier: .one) == UsagePartsSample.creditsAsPlainTokens)
    }

    /// Parts are fitted into their totals in one order — cached, 5-minute writes,
    /// 1-hour writes, audio, images — so no token is priced twice however a provider reports.
    @Test func partsBeyondTheirTotalsAreClampedInOrder() {
        let usage = Usage(
            promptTokens: 10, cachedTokens: 4, completionTokens: 2, cacheWriteTokens: 5, cacheWrite1hTokens: 5, audioInputTokens: 5,
            audioOutputTokens: 9)
        #expect(
            usage.partitioned
                == Usage(promptTokens: 10, cachedTokens: 4, completionTokens: 2, cacheWriteTokens: 5, cacheWrite1hTokens: 1, audioOutputTokens: 2))
        let price = Price(input: 1_000_000, output: 1_000_000, cachedInput: 0, cacheWrite: 2_000_000, cacheWrite1h: 3_000_000, audioOutput: 5_000_000)
        #expect(PriceMath.credits(for: usage, price: price, multiplier: .one) == 23)  // 5×2 + 1×3 + 2×5
        #expect(Usage(promptTokens: -3, webSearchRequests: -1).partitioned == Usage())
        let images = Usage(promptTokens: 10, cachedTokens: 8, completionTokens: 4, audioOutputTokens: 3, imageInputTokens: 5, imageOutputTokens: 5)
        #expect(
            images.partitioned
                == Usage(promptTokens: 10, cachedTokens: 8, completionTokens: 4, audioOutputTokens: 3, imageInputTokens: 2, imageOutputTokens: 1))
        #expect(Usage(fileSearchCalls: -1).partitioned == Usage() && Usage(webFetchRequests: -2).partitioned == Usage())
    }

    /// A reservation prices every token at its side's dearest price, so a bill
    /// of cache writes, audio or cached reads stays within it.
    @Test func theReservationPriceIsTheDearest() {
        let price = Price(input: 3, output: 15, cachedInput: 1, cacheWrite: 4, cacheWrite1h: 6, audioInput: 5, audioOutput: 20, perWebSearch: 9)
        #expect(price.dearest == Price(input: 6, output: 20, cachedInput: 6, perWebSearch: 9))
        let images = Price(input: 3, output: 15, perWebSearch: 9, perWebFetch: 1, perFileSearch: 12, imageInput: 7, imageOutput: 30)
        #expect(images.dearest == Price(input: 7, output: 30, cachedInput: 7, perWebSearch: 12))
        #expect(Price(input: 3, output: 15).dearest == Price(input: 3, output: 15, cachedInput: 3))
        // A cached read priced above input (the API accepts it) is still inside the hold.
        let cachedDearer = Price(input: 1, output: 1, cachedInput: 1_000_000)
        let hold = PriceMath.credits(for: Usage(promptTokens: 100, completionTokens: 10), price: cachedDearer.dearest, multiplier: .one)
        let bill = PriceMath.credits(for: Usage(promptTokens: 100, cachedTokens: 100, completionTokens: 10), price: cachedDearer, multiplier: .one)
        #expect(bill <= hold)
    }

    /// `verify`'s own formula caps like a settle (`Limits.credits`) and saturates
    /// instead of trapping on the huge values only a doctored log holds.
    @Test func verifysFormulaCapsAndSaturatesLikeASettle() {
        func settled(_ usage: Usage, _ price: Price, credits: Int64) -> ChargeSettled {
            ChargeSettled(
                requestID: "r", token: TokenID(raw: 1), user: UserID(raw: 1), model: "m", channel: nil, usage: usage, credits: credits,
                price: price, multiplier: Multiplier(micros: Multiplier.maximumMicros), estimated: false, stream: false, durationMs: 0,
                status: 200)
        }
        let searches = Usage(webSearchRequests: Limits.usageTokens)
        let dear = Price(perWebSearch: Price.maximum)
        #expect(Auditor.naiveCredits(settled(searches, dear, credits: Limits.credits)) == Limits.credits)
        let doctored = Usage(webSearchRequests: .max)
        #expect(Auditor.naiveCredits(settled(doctored, Price(perWebSearch: .max), credits: 0)) == Limits.credits)
        #expect(Auditor.naiveCredits(settled(UsagePartsSample.usage, UsagePartsSample.price, credits: 0)).map { $0 > 0 } == true)
    }

    @Test func bigNumbersNeitherOverflowNorTrap() {
        let max = Price(input: Price.maximum, output: Price.maximum, cachedInput: Price.maximum, perRequest: nil)
        let huge = Multiplier(micros: Multiplier.maximumMicros)
        let bound: Int64 = 1 << 40
        // 2^40 × 10^12 / 10^6 = 1.0995e18 credits: still representable, computed exactly.
        #expect(PriceMath.credits(for: Usage(promptTokens: bound), price: max, multiplier: .one) == 1_099_511_627_776_000_000)
        // With the largest multiplier it no longer fits in Int64: it saturates instead of trapping.
        #expect(PriceMath.credits(for: Usage(promptTokens: bound, completionTokens: bound), price: max, multiplier: huge) == Int64.max)
        #expect(
            PriceMath.credits(for: Usage(promptTokens: .max, cachedTokens: .max, completionTokens: .max), price: max, multiplier: huge) == Int64.max)
        #expect(PriceMath.credits(for: Usage(), price: Price(perRequest: Price.maximum), multiplier: huge) == 1_000_000_000_000_000)
        let searches = Usage(promptTokens: .max, completionTokens: .max, audioOutputTokens: .max, webSearchRequests: .max)
        let everything = Price(
            input: Price.maximum, output: Price.maximum, cacheWrite: Price.maximum, audioOutput: Price.maximum, perWebSearch: Price.maximum)
        #expect(PriceMath.credits(for: searches, price: everything, multiplier: .one) == Int64.max)
        #expect(PriceMath.credits(for: searches, price: everything, multiplier: huge) == Int64.max)
        // Negative counts (never accepted by settle) count as zero rather than crediting.
        #expect(PriceMath.credits(for: Usage(promptTokens: -5, completionTokens: -5), price: max, multiplier: .one) == 0)
    }
}

/// IP allowlist entries: IPv4, IPv6, IPv4-mapped IPv6, CIDR ranges.
@Suite struct IPRuleTests {
    func matches(_ rule: String, _ address: String) -> Bool {
        guard let rule = IPRule(rule) else { Issue.record("rule \(rule) did not parse"); return false }
        guard let address = IPAddress(address) else { Issue.record("address \(address) did not parse"); return false }
        return rule.contains(address)
    }

    @Test func ipv4() {
        #expect(matches("10.0.0.0/8", "10.255.1.2"))
        #expect(!matches("10.0.0.0/8", "11.0.0.1"))
        #expect(matches("192.168.1.7", "192.168.1.7"))
        #expect(!matches("192.168.1.7", "192.168.1.8"))
        #expect(matches("192.168.1.0/31", "192.168.1.1"))
        #expect(!matches("192.168.1.0/31", "192.168.1.2"))
        #expect(matches("10.1.2.3/8", "10.9.9.9"))  // host bits are masked off
        #expect(matches("0.0.0.0/0", "203.0.113.9"))
        #expect(!matches("0.0.0.0/0", "2001:db8::1"))  // all of IPv4 is not all of IPv6
    }

    @Test func ipv6() {
        #expect(matches("2001:db8::/32", "2001:db8:ffff::1"))
        #expect(!matches("2001:db8::/32", "2001:db9::1"))
        #expect(matches("::1", "::1"))
        #expect(!matches("::1", "::2"))
        #expect(matches("fe80::/10", "fe80::1%eth0"))
        #expect(matches("2001:db8::/127", "2001:db8::1"))
        #expect(!matches("2001:db8::/127", "2001:db8::2"))
        #expect(matches("2001:db8:0:0:8000::/65", "2001:db8::ffff:0:0:1"))
        #expect(!matches("2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1"))
        #expect(matches("::/0", "2001:db8::1"))
        #expect(matches("::/0", "10.0.0.1"))
    }

    @Test func ipv4MappedAddressesAreIPv4Clients() {
        // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
        #expect(matches("10.0.0.0/8", "::ffff:10.1.2.3"))
        #expect(!matches("10.0.0.0/8", "::ffff:11.1.2.3"))
        #expect(matches("203.0.113.5", "::ffff:203.0.113.5"))
        #expect(matches("::ffff:203.0.113.5", "203.0.113.5"))
        #expect(!matches("10.0.0.0/8", "::a00:1"))  // IPv4-compatible (deprecated) is not mapped
    }

    /// A rule written in IPv6 notation takes an IPv6 prefix length, even when the
    /// address is IPv4-mapped: `::ffff:0:0/96` is "every IPv4 client".
    @Test func ipv6NotationOfMappedRangesUsesIPv6PrefixLengths() {
        #expect(IPRule("::ffff:0:0/96") != nil)
        #expect(matches("::ffff:0:0/96", "198.51.100.1"))
        #expect(!matches("::ffff:0:0/96", "2001:db8::1"))
        #expect(matches("::ffff:10.0.0.0/104", "10.200.0.1"))
        #expect(!matches("::ffff:10.0.0.0/104", "11.0.0.1"))
        // `/8` in IPv6 notation is the IPv6 /8 (::/8), not the IPv4 10/8.
        #expect(matches("::ffff:10.0.0.0/8", "::1"))
    }

    @Test(arguments: [
        "", "garbage", "10.0.0.0/33", "1.2.3", "1.2.3.4.5", "256.0.0.1", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8",
        "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08a", "10.0.0.0/0008", "1.2.3.4 ", " 1.2.3.4", "2001:db8:::1",
        "::ffff:1.2.3.4/129",
    ])
    func refusesGarbage(text: String) {
        #expect(IPRule(text) == nil)
    }

    @Test func keepsTheOperatorsText() {
        #expect(IPRule("10.1.2.3/8")?.text == "10.1.2.3/8")
        #expect(IPRule("2001:DB8::/32")?.description == "2001:DB8::/32")
    }
}

/// Base62, ids and secrets.
@Suite struct IdentifierTests {
    @Test(arguments: [UInt64(0), 1, 61, 62, 3843, 3844, 1 << 32, UInt64.max - 1, UInt64.max])
    func base62RoundTrips(value: UInt64) {
        let text = Base62.encode(value)
        #expect(Base62.decode(Substring(text)) == value)
        #expect(text.utf8.allSatisfy { Base62.digitValue($0) != nil })
    }

    @Test func base62KnownValues() {
        #expect(Base62.encode(0) == "0")
        #expect(Base62.encode(61) == "z")
        #expect(Base62.encode(62) == "10")
        #expect(Base62.encode(UInt64.max) == "LygHa16AHYF")
        #expect(Base62.decode("LygHa16AHYG") == nil)  // UInt64.max + 1
        #expect(Base62.decode("zzzzzzzzzzz") == nil)
        #expect(Base62.decode("000000000001") == nil)  // more than 11 digits
        #expect(Base62.decode("") == nil)
        #expect(Base62.decode("a-b") == nil)
    }

    @Test func randomBase62IsUniformAlphabet() {
        let text = Base62.random(count: 10_000)
        #expect(text.count == 10_000)
        #expect(text.utf8.allSatisfy { Base62.digitValue($0) != nil })
        #expect(Set(text).count == 62)
    }

    @Test(arguments: [UInt64(1), 62, 1 << 40, UInt64.max])
    func idsRoundTrip(raw: UInt64) {
        let token = TokenID(raw: raw), user = UserID(raw: raw), channel = ChannelID(raw: raw)
        #expect(token.description.hasPrefix("tok_"))
        #expect(user.description.hasPrefix("usr_"))
        #expect(channel.description.hasPrefix("ch_"))
        #expect(TokenID(token.description) == token)
        #expect(UserID(user.description) == user)
        #expect(ChannelID(channel.description) == channel)
    }

    @Test func idsRefuseForeignText() {
        #expect(TokenID("usr_1") == nil)  // another kind's prefix
        #expect(TokenID("tok_") == nil)
        #expect(TokenID("tok_0") == nil)  // zero is "none"
        #expect(TokenID("tok_a b") == nil)
        #expect(TokenID("tok_LygHa16AHYG") == nil)
        #expect(TokenID("1") == nil)
        let random = TokenID.random()
        #expect(random.raw != 0)
        #expect(TokenID(random.description) == random)
    }

    @Test func secretsHaveTheSpecifiedShape() {
        let secret = Secret.generate()
        #expect(secret.plain.hasPrefix("sk-"))
        #expect(secret.plain.utf8.count == 3 + 48)
        #expect(secret.plain.utf8.dropFirst(3).allSatisfy { Base62.digitValue($0) != nil })
        #expect(Secret.isWellFormedTokenKey(secret.plain))
        #expect(secret.hash == Hash256(of: secret.plain))
        #expect(secret.hint == String(secret.plain.prefix(7)) + "…" + String(secret.plain.suffix(4)))
        #expect(Secret.generate().plain != secret.plain)
        let access = Secret.generate(prefix: "tk-")
        #expect(access.plain.hasPrefix("tk-"))
        #expect(!Secret.isWellFormedTokenKey(access.plain))
    }

    @Test func wellFormedTokenKeys() {
        let forty = String(repeating: "a", count: 40)
        #expect(Secret.isWellFormedTokenKey("sk-" + forty))
        #expect(!Secret.isWellFormedTokenKey("sk-" + String(forty.dropFirst())))  // 39
        #expect(Secret.isWellFormedTokenKey("sk-" + String(repeating: "Z9", count: 62)))  // 127 bytes
        #expect(!Secret.isWellFormedTokenKey("sk-" + String(repeating: "a", count: 126)))
        #expect(!Secret.isWellFormedTokenKey("sk_" + forty))
        #expect(!Secret.isWellFormedTokenKey("SK-" + forty))
        #expect(!Secret.isWellFormedTokenKey("sk-" + forty + "-"))
        #expect(!Secret.isWellFormedTokenKey("sk-" + forty + "é"))
        #expect(!Secret.isWellFormedTokenKey(" sk-" + forty))
        #expect(!Secret.isWellFormedTokenKey(""))
        #expect(Secret.hint(for: "short") == "…")
    }

    @Test func hashesPrintAsHexAndRoundTripBytes() {
        let hash = Hash256(of: "abc")
        #expect(hash.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hash256(bytes: hash.bytes) == hash)
        #expect(Hash256.zero.hex == String(repeating: "0", count: 64))
    }
}
