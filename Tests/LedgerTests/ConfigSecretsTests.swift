import TallyJSON
import Testing

@testable import Ledger

/// What a configuration document and an export do with credentials: a
/// webhook's `url_env` is resolved from the environment and sent to a server
/// keyed by its URL (the server never reads its own environment), and a
/// channel credential stored before such credentials were refused is exported
/// masked, never in plain text.
@Suite struct ConfigSecretsTests {
    static let url = "https://hooks.example/services/T0/B0/credential"

    static func file(urlEnv: String) -> ConfigNode {
        .mapping([
            (
                key: "webhooks",
                value: .mapping([
                    (
                        key: "ops",
                        value: .mapping([
                            (key: "url_env", value: .scalar(urlEnv, plain: true)),
                            (key: "alerts", value: .sequence([.scalar("token.quota", plain: true)])),
                        ])
                    )
                ])
            )
        ])
    }

    @Test func aWebhookURLFromTheEnvironmentIsSentKeyedByItAndMaskedInPrintedLines() throws {
        let declared = try DeclaredConfig(
            Self.file(urlEnv: "HOOK_URL"), secrets: .sources(environment: ["HOOK_URL": Self.url], readFile: { _ in "" }))
        #expect(declared.webhooks?[Self.url] != nil)
        let body = declared.inliningSecrets(of: Self.file(urlEnv: "HOOK_URL")).json.serialized
        #expect(
            body.contains(#""https:\/\/hooks.example\/services\/T0\/B0\/credential":{"alerts""#) || body.contains(#""\#(Self.url)":{"alerts""#),
            "\(body)")
        #expect(!body.contains("url_env") && !body.contains("HOOK_URL"), "\(body)")
        let remote = try DeclaredConfig(ConfigNode(try JSONParser.parse(Array(body.utf8))), secrets: .inline)
        #expect(remote.webhooks?[Self.url]?.alerts == [.tokenQuota])
        #expect(
            declared.maskingWebhookURLs("+ webhook \(Self.url) (alerts [token.quota])") == "+ webhook ops (url_env HOOK_URL) (alerts [token.quota])")

        #expect(throws: ConfigError.self) {
            try DeclaredConfig(Self.file(urlEnv: "HOOK_URL"), secrets: .sources(environment: [:], readFile: { _ in "" }))
        }
        // A body never names a variable: the server would have to read its own environment.
        #expect(throws: ConfigError.self) { try DeclaredConfig(Self.file(urlEnv: "HOOK_URL"), secrets: .inline) }
    }

    @Test func aChannelsStoredCredentialsAreExportedMasked() {
        var state = LedgerState()
        let legacy = ChannelDefinition(
            name: "legacy", kind: .openai, baseURL: "https://svc:hunter2@proxy.example/v1", models: ["m"],
            headers: ["x-title": "T", "helicone-auth": "Bearer sk-helicone"])
        state.channels[legacy.id] = legacy
        let yaml = ConfigExport.yaml(state, webhookURLs: true)
        #expect(!yaml.contains("hunter2") && !yaml.contains("sk-helicone"), "\(yaml)")
        #expect(yaml.contains(#"base_url: "https://MASKED@proxy.example/v1""#), "\(yaml)")
        #expect(yaml.contains(#""helicone-auth": "MASKED""#) && yaml.contains(#""x-title": "T""#), "\(yaml)")
        #expect(ChannelCredentials.userInfo(in: "https://proxy.example/v1/@scope") == nil, "an @ in the path is not a credential")
    }
}
