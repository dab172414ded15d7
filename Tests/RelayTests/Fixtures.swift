import HTTPTypes

/// Builds `HTTPFields` from plain pairs for tests.
struct HTTPFieldsFixture {
    var fields = HTTPFields()
    init(_ pairs: [String: String]) {
        for (name, value) in pairs { fields[HTTPField.Name(name)!] = value }
    }
}
