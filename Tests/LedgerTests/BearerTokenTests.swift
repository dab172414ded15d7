import Ledger
import Testing

/// One reading of `Authorization` for the relay and the console.
struct BearerTokenTests {
    @Test(
        arguments: [
            ("Bearer sk-abc", "sk-abc"),
            ("bearer sk-abc", "sk-abc"),
            ("BEARER   sk-abc  ", "sk-abc"),
            ("Bearer \tsk-abc\u{00A0}", "sk-abc"),
            ("Bearer", ""),
            ("Bearer ", ""),
            ("", ""),
        ] as [(String, String)])
    func bearerCredentials(header: String, credential: String) {
        #expect(BearerToken.credential(in: header) == credential)
    }

    @Test(arguments: ["Basic dXNlcjpwYXNz", "sk-abc", "   ", "Bearersk-abc", "Token sk-abc"])
    func otherSchemesAreNotBearer(header: String) {
        #expect(BearerToken.credential(in: header) == nil)
    }
}
