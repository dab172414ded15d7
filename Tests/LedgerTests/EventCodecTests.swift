import LedgerTesting
import Testing

@testable import Ledger

/// Sample payloads: every event type at least once, with the awkward values
/// (empty strings and lists, negative numbers, extremes, non-ASCII text).
enum Samples {
    static let user = UserID(raw: 0x0123_4567_89AB_CDEF)
    static let token = TokenID(raw: UInt64.max)
    static let channel = ChannelID(raw: 1)
    static let hashA = Hash256(of: "sk-a")
    static let hashB = Hash256(of: "sk-b")

    static let events: [Event] = [
        .userCreated(UserCreated(id: user, username: "alice", role: .admin, group: "default", accessKeyHash: hashA, accessKeyHint: "tk-abcd…wxyz")),
        .userUpdated(UserUpdated(id: user, role: nil, group: nil, enabled: nil, accessKeyHash: nil, accessKeyHint: nil, passwordChanged: false)),
        .userUpdated(
            UserUpdated(
                id: user, role: .user, group: "premium", enabled: false, accessKeyHash: hashB, accessKeyHint: "tk-new…", passwordChanged: true)),
        .balanceCredited(BalanceChanged(user: user, amount: 1_000_000_000_000_000, note: "welcome ✓")),
        .balanceAdjusted(BalanceChanged(user: user, amount: -42, note: "")),
        .groupSet(GroupDefinition(name: "premium", multiplier: Multiplier(micros: 1_500_000), models: ["a", "b"], rpm: 60, tpm: nil)),
        .groupSet(GroupDefinition(name: "free", multiplier: Multiplier(micros: 0), models: [], rpm: nil, tpm: 1_000_000_000)),
        .groupSet(GroupDefinition(name: "open", multiplier: .one, models: [], selectable: true)),
        .groupRemoved(name: "free"),
        .priceSet(ModelPrice(model: "gpt-x", price: Price(input: 1, output: Price.maximum, cachedInput: 0, perRequest: nil))),
        .priceSet(ModelPrice(model: "dall-e", price: Price(perRequest: 40))),
        // Version 3's parts: an absent price, a zero one and set ones.
        .priceSet(
            ModelPrice(
                model: "claude-x",
                price: Price(input: 3, output: 15, cachedInput: 0, audioInput: 0, audioOutput: 20, perWebSearch: 10, maxOutput: 64_000))),
        // Version 4's parts: image prices and the web-fetch and file-search per-call prices.
        .priceSet(
            ModelPrice(
                model: "img-x",
                price: Price(input: 5, output: 40, cachedInput: 1, perWebFetch: 0, perFileSearch: 2_500, imageInput: 10, imageOutput: 30))),
        .priceRemoved(model: "dall-e"),
        .channelSet(
            ChannelDefinition(
                id: channel, name: "main", kind: .anthropic, baseURL: "https://api.example.com", models: ["m"],
                groups: [], priority: -5, weight: 0, enabled: true)),
        // Version 2's routing options: a model map, an Azure API version; extra headers and an OpenAI organization and project.
        .channelSet(
            ChannelDefinition(
                id: channel, name: "azure", kind: .azure, baseURL: "https://r.openai.azure.com", models: ["gpt-4o", "e"],
                modelMap: ["gpt-4o": "prod-4o", "e": "embed"], apiVersion: "2024-10-21")),
        .channelSet(
            ChannelDefinition(
                id: channel, name: "router", kind: .openai, baseURL: "https://openrouter.ai/api", models: ["m"],
                headers: ["http-referer": "https://app.example", "x-title": "Tälly"], organization: "org-1", project: "proj_2")),
        .channelSuspended(ChannelSuspended(channel: channel, reason: .authFailed, status: 401, cooldownMs: 600_000, detail: "HTTP 401: bad key")),
        .channelSuspended(ChannelSuspended(channel: channel, reason: .failures, status: 0, cooldownMs: 1, detail: "")),
        .channelRestored(ChannelRestored(channel: channel, cause: "probe", status: 200)),
        .channelTested(
            ChannelTested(channel: channel, model: "m", status: 0, latencyMs: 5_000, usage: Usage(promptTokens: 1, completionTokens: 1), credits: 10)),
        .channelRemoved(channel),
        .tokenCreated(
            TokenCreated(
                id: token, owner: user, name: "ci bot", secretHash: hashA, hint: "sk-abcd…wxyz", quota: nil,
                expiresAt: nil, models: [], ips: [], group: "default", maxParallel: nil)),
        .tokenCreated(
            TokenCreated(
                id: token, owner: user, name: "ünïcode", secretHash: hashB, hint: "h", quota: 0,
                expiresAt: Int64.max, models: ["x", "y"], ips: ["10.0.0.0/8", "::1"], group: "g", maxParallel: 3)),
        .tokenUpdated(TokenUpdated(id: token)),
        .tokenUpdated(
            TokenUpdated(
                id: token, name: "renamed", quota: .some(500), expiresAt: .some(123), models: ["m"], ips: ["1.2.3.4"],
                group: "premium", maxParallel: .some(9))),
        // `.some(nil)`: clear the field (unlimited, never expires, no cap) — distinct from nil (unchanged).
        .tokenUpdated(TokenUpdated(id: token, quota: .some(nil), expiresAt: .some(nil), maxParallel: .some(nil))),
        .tokenUpdated(TokenUpdated(id: token, quota: .some(nil))),
        .tokenUpdated(TokenUpdated(id: token, expiresAt: .some(nil))),
        .tokenUpdated(TokenUpdated(id: token, models: [], ips: [])),
        // Version 2: periodic budgets set, and cleared.
        .tokenCreated(
            TokenCreated(
                id: token, owner: user, name: "daily", secretHash: hashA, hint: "h", models: [], ips: [], group: "default",
                budget: Budget(amount: Limits.credits, period: .day))),
        .tokenUpdated(TokenUpdated(id: token, budget: .some(Budget(amount: 1, period: .month)))),
        .tokenUpdated(TokenUpdated(id: token, budget: .some(nil))),
        .userUpdated(
            UserUpdated(
                id: user, role: nil, group: nil, enabled: nil, accessKeyHash: nil, accessKeyHint: nil, passwordChanged: false,
                budget: .some(Budget(amount: 5_000, period: .week)))),
        .userUpdated(
            UserUpdated(
                id: user, role: nil, group: nil, enabled: nil, accessKeyHash: nil, accessKeyHint: nil, passwordChanged: false,
                budget: .some(nil))),
        .tokenDisabled(token),
        .tokenEnabled(token),
        .tokenRegenerated(TokenRegenerated(id: token, secretHash: hashB, hint: "sk-b…", graceUntil: nil)),
        .tokenRegenerated(TokenRegenerated(id: token, secretHash: hashA, hint: "sk-a…", graceUntil: 1_767_225_600_000)),
        .tokenDeleted(token),
        .tokenToppedUp(TokenToppedUp(id: token, amount: 1)),
        .chargeReserved(ChargeReserved(requestID: "req-1", token: token, user: user, model: "gpt-x", amount: 0, stream: true)),
        .chargeSettled(
            ChargeSettled(
                requestID: "req-1", token: token, user: user, model: "gpt-x", channel: ChannelID(raw: UInt64.max),
                usage: Usage(promptTokens: 1 << 40, cachedTokens: 7, completionTokens: 0), credits: Int64.max,
                price: Price(input: 3, output: 4, cachedInput: 1, perRequest: 0),
                multiplier: Multiplier(micros: 1_000_000_000), estimated: true, stream: false,
                durationMs: 1234, status: 200)),
        // Version 2's parts: cache writes of both lifetimes and a web search, with the prices that bill them.
        .chargeSettled(
            ChargeSettled(
                requestID: "req-5", token: token, user: user, model: "claude-x", channel: ChannelID(raw: 1),
                usage: Usage(
                    promptTokens: 4096, cachedTokens: 1800, completionTokens: 503, cacheWriteTokens: 148, cacheWrite1hTokens: 100,
                    webSearchRequests: 1),
                credits: 25_384, price: Price(input: 3, output: 15, cachedInput: 0, cacheWrite: 4, cacheWrite1h: 6, perWebSearch: Price.maximum),
                multiplier: .one, estimated: false, stream: true, durationMs: 0, status: 200)),
        .chargeVoided(
            ChargeVoided(
                requestID: "req-2", token: token, user: user, channel: nil, reason: "client disconnected",
                status: 499, durationMs: 0)),
        // Version 2's attempts: two failures on other channels before the last.
        .chargeVoided(
            ChargeVoided(
                requestID: "req-6", token: token, user: user, channel: channel, reason: "upstream_error: 500", status: 500, durationMs: 9,
                attempts: [
                    UpstreamAttempt(channel: ChannelID(raw: 2), status: 0, durationMs: 5_000),
                    UpstreamAttempt(channel: channel, status: 500, durationMs: 4),
                ])),
        // Version 3: the upstream model and the attempts that led to the answer.
        .chargeSettled(
            ChargeSettled(
                requestID: "req-7", token: token, user: user, model: "gpt-4o", channel: channel,
                usage: Usage(promptTokens: 3, cachedTokens: 0, completionTokens: 2), credits: 1, price: Price(input: 1, output: 1, cachedInput: 1),
                multiplier: .one, estimated: false, stream: true, durationMs: 10, status: 200, upstreamModel: "gpt-4o-2024-08-06",
                attempts: [
                    UpstreamAttempt(channel: ChannelID(raw: 9), status: 429, durationMs: 3),
                    UpstreamAttempt(channel: channel, status: 200, durationMs: 7),
                ])),
        // Version 4's parts: web fetches, file searches and image tokens, with the prices that bill them.
        .chargeSettled(
            ChargeSettled(
                requestID: "req-8", token: token, user: user, model: "img-x", channel: channel,
                usage: Usage(
                    promptTokens: 50, completionTokens: 1290, webFetchRequests: 2, fileSearchCalls: 1, imageInputTokens: 40,
                    imageOutputTokens: 1290),
                credits: 2_501,
                price: Price(input: 5, output: 40, cachedInput: 1, perWebFetch: 0, perFileSearch: 2_500, imageInput: 10, imageOutput: 30),
                multiplier: .one, estimated: false, stream: false, durationMs: 5, status: 200)),
        // Version 5: the provider's id of the answer and the model it said answered.
        .chargeSettled(
            ChargeSettled(
                requestID: "req-9", token: token, user: user, model: "gpt-4o", channel: channel,
                usage: Usage(promptTokens: 3, completionTokens: 2), credits: 1, price: Price(input: 1, output: 1, cachedInput: 1),
                multiplier: .one, estimated: false, stream: false, durationMs: 4, status: 200,
                providerRequestID: "chatcmpl-9", providerModel: "gpt-4o-2024-11-20")),
        .chargeExpired(ChargeExpired(requestID: "req-3", token: token, user: user, policy: .void, credits: 0)),
        .chargeExpired(ChargeExpired(requestID: "req-4", token: token, user: user, policy: .settleReserved, credits: 99)),
        .chargeAdjusted(ChargeAdjusted(requestID: "req-1", token: token, user: user, amount: -Int64.max, reason: "refund")),
        .relayRejected(RelayRejected(token: token, reason: "ip_not_allowed", count: 10_000, second: 1_767_225_600)),
        // Version 3 of a channel: its own connect timeout.
        .channelSet(
            ChannelDefinition(
                id: channel, name: "slow", kind: .openai, baseURL: "https://slow.example", models: ["m"], firstByteTimeoutMs: 900_000,
                idleTimeoutMs: 100, connectTimeoutMs: 86_400_000)),
        .routingSet(RoutingSet(scope: .group, name: "premium", strategy: .leastBusy)),
        .routingSet(RoutingSet(scope: .model, name: "gpt-4o", strategy: .lowestLatency)),
        .routingSet(RoutingSet(scope: .model, name: "gpt-4o", strategy: .weighted)),
        .ledgerCheckpoint(LedgerCheckpoint(first: 1, count: 4096, root: Hash256(of: "root"), previous: 0, previousHash: .zero)),
        .ledgerCheckpoint(
            LedgerCheckpoint(first: 4098, count: 17, root: Hash256(of: "next"), previous: 4097, previousHash: Hash256(of: "checkpoint"))),
        .webhookSet(WebhookDefinition(id: WebhookID(raw: 77), url: "https://hooks.example/tally", alerts: [.tokenQuota, .lowBalance])),
        .webhookRemoved(WebhookID(raw: 77)),
        .alertRaised(
            AlertRaised(
                key: AlertKey(kind: .userBudget, subject: user.raw, threshold: 80, periodStart: 1_767_225_600_000), value: 800, limit: 1_000)),
        .alertRaised(AlertRaised(key: AlertKey(kind: .lowBalance, subject: user.raw, threshold: 0, periodStart: 0), value: -5, limit: 100)),
        .alertCleared(AlertKey(kind: .tokenQuota, subject: token.raw, threshold: 100, periodStart: 0)),
        .webhookDelivered(WebhookDelivered(webhook: WebhookID(raw: 77), alert: 4_242, attempts: 17, status: 0)),
        .lowBalanceSet(LowBalanceSet(user: user, threshold: 5_000)),
        .lowBalanceSet(LowBalanceSet(user: user, threshold: nil)),
        .webhookSet(WebhookDefinition(id: WebhookID(raw: 78), url: "https://hooks.example/ops", alerts: [.channelSuspended])),
        .alertRaised(
            AlertRaised(
                key: AlertKey(kind: .channelSuspended, subject: 0x00C0_FFEE, threshold: 1, periodStart: 1_767_225_600_000), value: 429,
                limit: 600_000)),
        .alertCleared(AlertKey(kind: .channelSuspended, subject: 0x00C0_FFEE, threshold: 1, periodStart: 1_767_225_600_000)),
        .requestRouted(RequestRouted(requestID: "req-1", strategy: .leastBusy)),
        // Issue 15's books.closed (code 51): a second close, with negative and extreme figures.
        .booksClosed(
            BooksClosed(
                periodEnd: 1_764_547_200_000, through: 4_096, throughHash: Hash256(of: "through"), previous: 1_000, previousThrough: 990,
                totals: {
                    var totals = BooksTotals()
                    (totals.events, totals.settled, totals.voided, totals.expired) = (3_106, 2_000, 40, 1)
                    (totals.charged, totals.chargeAdjustments, totals.credited, totals.balanceAdjustments) = (987_654, -320, 1_000_000, Int64.min)
                    return totals
                }(),
                users: [ClosedUser(user: UserID(raw: 1), balance: Int64.max, reserved: 0), ClosedUser(user: user, balance: -5, reserved: 7)],
                tokens: [ClosedToken(token: token, used: 12, reserved: 7)])),
        // Issue 13's escrow leases (codes 80, 81).
        .leaseGranted(LeaseGranted(lease: "a/00c0ffee00c0ffee", node: "a", user: user, token: token, amount: 4_200)),
        .leaseReturned(LeaseReturned(lease: "a/00c0ffee00c0ffee", spent: 4_199, through: 1 << 40)),
        // Issue 13's forgotten nodes (code 82): a settle-leased forget of two leases, and a void one of none.
        .nodeForgotten(
            NodeForgotten(
                node: "node-β", policy: .settleLeased, through: 1 << 40,
                leases: [ForgottenLease(lease: "b/1", shipped: 0, spent: 4_200), ForgottenLease(lease: "b/2", shipped: 7, spent: Int64.max)])),
        .nodeForgotten(NodeForgotten(node: "", policy: .void, through: 0, leases: [])),
    ]

    static let actors: [EventActor] = [.system, .relay, .user(user), .user(UserID(raw: 1))]
}

/// `Envelope.seal` → bytes → `Envelope.decode`, and the refusals of decoding.
@Suite struct EventCodecTests {
    @Test func samplesCoverEveryEventType() {
        let covered = Set(Samples.events.map(\.type))
        let missing = EventType.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "no round-trip sample for \(missing)")
    }

    @Test(arguments: Samples.events.indices)
    func everyEventRoundTrips(index: Int) throws {
        let event = Samples.events[index]
        for (i, actor) in Samples.actors.enumerated() {
            let seq = UInt64(index * 10 + i + 1)
            let time = TestClock.start + Int64(index)
            let (sealed, bytes) = Envelope.seal(seq: seq, time: time, actor: actor, event: event, previous: Samples.hashB)
            #expect(sealed.event == event)
            #expect(sealed.version == event.type.currentVersion)
            let decoded = try bytes.withUnsafeBytes { try Envelope.decode(seq: seq, from: $0) }
            #expect(decoded == sealed)
            #expect(decoded.event == event, "\(event.type) did not survive the round trip")
            #expect(decoded.actor == actor)
            #expect(decoded.time == time)
            // Deterministic: sealing again gives the same bytes.
            #expect(Envelope.seal(seq: seq, time: time, actor: actor, event: event, previous: Samples.hashB).1 == bytes)
        }
    }

    @Test func negativeAndExtremeTimesRoundTrip() throws {
        for time in [Int64.min, -1, 0, 1, Int64.max] {
            let (sealed, bytes) = Envelope.seal(seq: 1, time: time, actor: .system, event: .tokenDisabled(Samples.token), previous: .zero)
            #expect(try bytes.withUnsafeBytes { try Envelope.decode(seq: 1, from: $0) } == sealed)
        }
    }

    /// The distinction between "unchanged" and "cleared" survives the codec.
    @Test func tokenUpdatedKeepsDoubleOptionalsApart() throws {
        let cases: [TokenUpdated] = [
            TokenUpdated(id: Samples.token),
            TokenUpdated(id: Samples.token, quota: .some(nil)),
            TokenUpdated(id: Samples.token, quota: .some(.some(0))),
            TokenUpdated(id: Samples.token, expiresAt: .some(nil)),
            TokenUpdated(id: Samples.token, expiresAt: .some(.some(-1))),
            TokenUpdated(id: Samples.token, maxParallel: .some(nil)),
            TokenUpdated(id: Samples.token, maxParallel: .some(.some(1))),
        ]
        for update in cases {
            let (_, bytes) = Envelope.seal(seq: 1, time: 0, actor: .system, event: .tokenUpdated(update), previous: .zero)
            let decoded = try bytes.withUnsafeBytes { try Envelope.decode(seq: 1, from: $0) }
            guard case .tokenUpdated(let back) = decoded.event else {
                Issue.record("decoded \(decoded.event.type)")
                continue
            }
            #expect(back == update)
            #expect((back.quota == nil) == (update.quota == nil))
            #expect((back.expiresAt == nil) == (update.expiresAt == nil))
            #expect((back.maxParallel == nil) == (update.maxParallel == nil))
        }
    }

    @Test(arguments: Samples.events.indices)
    func everyTruncationIsAnErrorNamingTheSequence(index: Int) {
        let (_, bytes) = Envelope.seal(seq: 77, time: 5, actor: .user(Samples.user), event: Samples.events[index], previous: .zero)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            do {
                _ = try prefix.withUnsafeBytes { try Envelope.decode(seq: 77, from: $0) }
                Issue.record("a \(length)-byte prefix of \(bytes.count) decoded")
            } catch {
                #expect("\(error)".contains("event 77"), "\(error)")
            }
        }
    }

    @Test func trailingBytesAreAnError() {
        let (_, bytes) = Envelope.seal(seq: 3, time: 5, actor: .system, event: .tokenEnabled(Samples.token), previous: .zero)
        let error = #expect(throws: LogError.self) {
            _ = try (bytes + [0]).withUnsafeBytes { try Envelope.decode(seq: 3, from: $0) }
        }
        if case .corrupt(let seq, _) = error {
            #expect(seq == 3)
        } else {
            Issue.record("expected corrupt, got \(String(describing: error))")
        }
    }

    /// Hand-built stored value: header fields, an arbitrary payload, two hashes.
    static func storedValue(typeCode: UInt64, version: UInt8, payload: [UInt8]) -> [UInt8] {
        var w = BinaryWriter()
        w.byte(1)  // envelope format
        w.signed(1_000)  // time
        w.byte(0)  // actor: system
        w.varint(typeCode)
        w.byte(version)
        w.varint(UInt64(payload.count))
        w.raw(payload)
        w.hash(.zero)
        w.hash(.zero)
        return w.bytes
    }

    static func payload(of event: Event) -> [UInt8] {
        var w = BinaryWriter()
        event.encodePayload(into: &w)
        return w.bytes
    }

    @Test func theHandBuiltLayoutMatchesSeal() throws {
        // Guards the two tests below: a hand-built value with a known type decodes.
        let event = Event.tokenDeleted(Samples.token)
        let value = Self.storedValue(typeCode: UInt64(EventType.tokenDeleted.rawValue), version: 1, payload: Self.payload(of: event))
        let decoded = try value.withUnsafeBytes { try Envelope.decode(seq: 9, from: $0) }
        #expect(decoded.event == event)
        #expect(decoded.time == 1_000)
    }

    @Test(arguments: [UInt64(0), 5, 99, 999, 65_535, 65_536, UInt64.max])
    func unknownTypeCodesAreRefusedNamingTheSequence(code: UInt64) {
        let value = Self.storedValue(typeCode: code, version: 1, payload: [])
        let error = #expect(throws: LogError.self) { _ = try value.withUnsafeBytes { try Envelope.decode(seq: 42, from: $0) } }
        #expect(error == .unknownEventType(seq: 42, code: code))
        #expect(error?.description.contains("event 42") == true)
    }

    @Test(arguments: EventType.allCases)
    func newerSchemaVersionsAreRefusedNamingTheSequence(type: EventType) {
        let sample = Samples.events.first { $0.type == type }!
        let newer = type.currentVersion + 1
        let value = Self.storedValue(typeCode: UInt64(type.rawValue), version: newer, payload: Self.payload(of: sample))
        let error = #expect(throws: LogError.self) { _ = try value.withUnsafeBytes { try Envelope.decode(seq: 1234, from: $0) } }
        #expect(error == .unsupportedVersion(seq: 1234, type: type, version: newer))
        #expect(error?.description.contains("event 1234") == true)
        // Version 0 was never written either.
        let zero = Self.storedValue(typeCode: UInt64(type.rawValue), version: 0, payload: Self.payload(of: sample))
        #expect(throws: LogError.unsupportedVersion(seq: 1, type: type, version: 0)) {
            _ = try zero.withUnsafeBytes { try Envelope.decode(seq: 1, from: $0) }
        }
    }

    @Test func garbledFieldsAreCorruptNotCrashes() {
        var values: [[UInt8]] = [
            [],
            [2],  // unknown envelope format
            Self.storedValue(typeCode: 20, version: 1, payload: [1, 2, 3]),  // payload too short for token.created
            Self.storedValue(typeCode: 22, version: 1, payload: [UInt8](repeating: 0, count: 9)),  // trailing payload byte
            Self.storedValue(typeCode: 21, version: 1, payload: bigEndianWord(1) + [0xFF, 0x01]),  // unknown token.updated field bits
        ]
        // An invalid boolean, an unknown role and invalid UTF-8.
        values.append(
            Self.storedValue(
                typeCode: 18 + 12, version: 1,
                payload: [1, 0x41] + bigEndianWord(1) + bigEndianWord(2) + [1, 0x41, 0, 7]))
        values.append(Self.storedValue(typeCode: 1, version: 1, payload: bigEndianWord(1) + [1, 0x61, 9, 0] + [UInt8](repeating: 0, count: 33)))
        values.append(Self.storedValue(typeCode: 11, version: 1, payload: [2, 0xC3, 0x28]))
        for value in values {
            do {
                _ = try value.withUnsafeBytes { try Envelope.decode(seq: 5, from: $0) }
                Issue.record("decoded garbage \(value)")
            } catch {
                #expect("\(error)".contains("event 5"), "\(error)")
            }
        }
    }
}

func bigEndianWord(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
}
