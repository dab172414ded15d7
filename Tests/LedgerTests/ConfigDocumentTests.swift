import Ledger
import TallyJSON
import Testing

/// A configuration document reads the same from a YAML file and from the JSON
/// body `tally apply --server` sends: unquoted scalars may be numbers or
/// booleans, quoted ones are text, and secrets come from their sources in a
/// file but only inline in a body.
@Suite struct ConfigDocumentTests {
    /// A channel as a YAML file's tree would hold it (`plain`: written unquoted).
    static func file(priority: String, quoted: Bool = false, secretField: String = "key_env") -> ConfigNode {
        .mapping([
            (
                key: "channels",
                value: .mapping([
                    (
                        key: "main",
                        value: .mapping([
                            (key: "type", value: .scalar("openai", plain: true)),
                            (key: "base_url", value: .scalar("http://127.0.0.1:9/", plain: true)),
                            (key: secretField, value: .scalar("UPSTREAM_KEY", plain: true)),
                            (key: "models", value: .sequence([.scalar("007", plain: false), .scalar("gpt-x", plain: true)])),
                            (key: "priority", value: .scalar(priority, plain: !quoted)),
                            (key: "enabled", value: .scalar("yes", plain: true)),
                            (key: "timeouts", value: .mapping([(key: "first_byte", value: .scalar("1.5", plain: true))])),
                        ])
                    )
                ])
            )
        ])
    }

    static var environment: DeclaredConfig.Secrets { .sources(environment: ["UPSTREAM_KEY": "sk-up"], readFile: { _ in "" }) }

    @Test func aFileAndTheBodySentForItDeclareTheSame() throws {
        let document = Self.file(priority: "250.0")
        let local = try DeclaredConfig(document, secrets: Self.environment)
        let body = local.inliningSecrets(of: document).json
        #expect(!body.serialized.contains("UPSTREAM_KEY") && body.serialized.contains(#""key":"sk-up""#), "\(body.serialized)")
        let remote = try DeclaredConfig(ConfigNode(try JSONParser.parse(Array(body.serialized.utf8))), secrets: .inline)
        for declared in [local, remote] {
            let channel = try #require(declared.channels?["main"])
            #expect(channel.key == "sk-up")
            #expect(channel.definition.models == ["007", "gpt-x"], "a quoted 007 stays text")
            #expect(channel.definition.priority == 250 && channel.definition.enabled)
            #expect(channel.definition.firstByteTimeoutMs == 1500)
        }
    }

    @Test func quotedNumbersAndMisplacedSecretsAreRefused() {
        #expect(throws: ConfigError.self, "a quoted number is text") {
            try DeclaredConfig(Self.file(priority: "5", quoted: true), secrets: Self.environment)
        }
        #expect(throws: ConfigError.self, "a body never names the server's environment") {
            try DeclaredConfig(Self.file(priority: "5"), secrets: .inline)
        }
        #expect(throws: ConfigError.self, "a file never holds a key") {
            try DeclaredConfig(Self.file(priority: "5", secretField: "key"), secrets: Self.environment)
        }
    }
}
