import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

@testable import UpstreamHTTP

/// `https` upstreams (every real provider): the certificate is verified
/// against the trust roots and the host name, and a verified connection
/// carries calls and is kept alive like a plain one.
@Suite("Upstream client over TLS")
struct TLSUpstreamTests {
    /// A self-signed certificate for `localhost`, made with openssl in a temporary folder.
    static func makeCertificate() throws -> (certificate: NIOSSLCertificate, key: NIOSSLPrivateKey) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", folder.appendingPathComponent("key.pem").path, "-out", folder.appendingPathComponent("cert.pem").path,
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let certificate = try #require(try NIOSSLCertificate.fromPEMFile(folder.appendingPathComponent("cert.pem").path).first)
        let key = try NIOSSLPrivateKey(file: folder.appendingPathComponent("key.pem").path, format: .pem)
        return (certificate, key)
    }

    @Test("a call to an https upstream whose certificate the client trusts, kept alive")
    func trusted() async throws {
        let (certificate, key) = try Self.makeCertificate()
        let server = try await ScriptedServer(
            tls: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        ) { _ in
            .text("secret ok")
        }
        var configuration = UpstreamClient.Configuration()
        configuration.tls.trustRoots = .certificates([certificate])
        let client = UpstreamClient(configuration: configuration)
        for _ in 0..<4 {
            let response = try await client.execute(.init(url: "https://localhost:\(server.port)/v1/chat"), timeout: .seconds(10))
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "secret ok")
        }
        #expect(server.snapshot.requests == 4)
        #expect(server.snapshot.connections <= 2, "kept alive per event loop")
        await client.shutdown()
        await server.close()
    }

    @Test("an https upstream with a certificate the client does not trust is refused before anything is sent")
    func untrusted() async throws {
        let (certificate, key) = try Self.makeCertificate()
        let server = try await ScriptedServer(
            tls: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        ) { _ in
            .text("must not be reached")
        }
        let client = UpstreamClient()  // system roots only
        await #expect(throws: (any Error).self) {
            try await client.execute(.init(url: "https://localhost:\(server.port)/"), timeout: .seconds(10))
        }
        #expect(server.snapshot.requests == 0)
        await client.shutdown()
        await server.close()
    }
}
