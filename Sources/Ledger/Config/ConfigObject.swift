/// A mapping of a configuration document, read strictly: a key it does not
/// know, or a value of the wrong type, is an error naming where it is — a typo
/// must not silently become "use the default". `null` (or `~`) is the same as absent.
struct ConfigObject {
    let path: String
    let pairs: [(key: String, value: ConfigNode)]

    init(_ node: ConfigNode, path: String) throws {
        guard case .mapping(let mapping) = node else { throw ConfigError(path, "must be a mapping") }
        var pairs: [(key: String, value: ConfigNode)] = []
        for (name, value) in mapping {
            guard !pairs.contains(where: { $0.key == name }) else { throw ConfigError(path, "names \(name) twice") }
            pairs.append((key: name, value: value))
        }
        self.path = path
        self.pairs = pairs
    }

    /// Refuses any key outside `allowed`.
    func only(_ allowed: Set<String>) throws {
        for (key, _) in pairs where !allowed.contains(key) {
            throw ConfigError(path, "has an unknown key \(key) (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func node(_ key: String) -> ConfigNode? {
        guard let value = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func string(_ key: String) throws -> String? {
        guard let value = node(key) else { return nil }
        guard let text = value.string else { throw ConfigError(at(key), "must be a string") }
        return text
    }

    func int(_ key: String) throws -> Int64? {
        guard let value = node(key) else { return nil }
        guard let int = value.int else { throw ConfigError(at(key), "must be a whole number") }
        return int
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = node(key) else { return nil }
        guard let bool = value.bool else { throw ConfigError(at(key), "must be true or false") }
        return bool
    }

    /// Seconds (fractions allowed) as milliseconds.
    func milliseconds(_ key: String) throws -> Int64? {
        guard let value = node(key) else { return nil }
        guard let seconds = value.double, seconds.isFinite, seconds >= 0, seconds <= 86_400 else {
            throw ConfigError(at(key), "must be a number of seconds (0.1 to 86400)")
        }
        return Int64((seconds * 1000).rounded())
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = node(key) else { return nil }
        guard case .sequence(let items) = value else { throw ConfigError(at(key), "must be a list of strings") }
        return try items.map { item in
            guard let text = item.string else { throw ConfigError(at(key), "must be a list of strings") }
            return text
        }
    }

    func stringMap(_ key: String) throws -> [String: String]? {
        guard let value = node(key) else { return nil }
        let object = try ConfigObject(value, path: at(key))
        var map: [String: String] = [:]
        for (name, item) in object.pairs {
            guard let text = item.string else { throw ConfigError(object.at(name), "must be a string") }
            map[name] = text
        }
        return map
    }

    func object(_ key: String) throws -> ConfigObject? {
        try node(key).map { try ConfigObject($0, path: at(key)) }
    }

    /// Each entry of this mapping as an object of its own (`groups: {name: {...}}`).
    func objects() throws -> [(name: String, object: ConfigObject)] {
        try pairs.map { name, value in
            if case .null = value { return (name, try ConfigObject(.mapping([]), path: at(name))) }
            return (name, try ConfigObject(value, path: at(name)))
        }
    }
}

/// A configuration document that cannot be applied as written; the path says where.
package struct ConfigError: Error, CustomStringConvertible {
    package let description: String

    package init(_ path: String, _ problem: String) { description = "\(path.isEmpty ? "the file" : path) \(problem)" }
}
