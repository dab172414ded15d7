import Ledger
import Yams

extension ConfigNode {
    /// A YAML file's tree; an empty file, or a mapping key that is not a string, is refused.
    static func yaml(_ text: String) throws -> ConfigNode {
        guard let root = try Yams.compose(yaml: text) else { throw ConfigError("", "is empty") }
        return try ConfigNode(root, path: "")
    }

    private init(_ node: Node, path: String) throws {
        switch node {
        case .scalar(let scalar):
            self = node.null != nil ? .null : .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any)
        case .sequence(let items):
            self = .sequence(try items.enumerated().map { try ConfigNode($1, path: "\(path)[\($0)]") })
        case .mapping(let mapping):
            self = .mapping(
                try mapping.map { key, value in
                    guard let name = key.scalar?.string else { throw ConfigError(path, "has a key that is not a string") }
                    return (key: name, value: try ConfigNode(value, path: path.isEmpty ? name : "\(path).\(name)"))
                })
        case .alias:
            throw ConfigError(path, "uses an alias, which apply does not read")
        }
    }
}
