/// `X-Request-Id`: the client's, when it is a sane token (1–128 visible ASCII
/// characters, so it cannot inject headers or bloat the log), else a new
/// `req_` + 20 base62 characters (~119 bits: collisions are not a concern).
enum RequestID {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    static func accept(_ presented: String?) -> String? {
        guard let presented, !presented.isEmpty, presented.utf8.count <= 128,
              presented.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        return presented
    }

    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return "req_" + String(decoding: characters, as: UTF8.self)
    }
}
