import Foundation
import RelayCore
import Yams

/// Reads the YAML configuration file and applies environment overrides.
///
/// An override is an environment variable `HIKYAKU_` + the key path in upper case with
/// `__` between levels; its value is read as YAML:
///
///     HIKYAKU_REDIS__URL=redis://10.0.0.5:6379/0
///     HIKYAKU_INGEST__MAX_MESSAGE_SIZE=10MiB
///     HIKYAKU_DELIVERY__DNS_SERVERS='["127.0.0.1:5353"]'
///
/// Any problem — unreadable file, bad YAML, unknown key, wrong type, invalid value — is a
/// `ConfigurationError` naming the key.
public enum ConfigurationLoader {
    public static let environmentPrefix = "HIKYAKU_"

    public static func load(
        path: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> HikyakuConfiguration {
        var text = ""
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(key: "", problem: "cannot read configuration file '\(path)'")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        return try parse(yaml: text, environment: environment)
    }

    public static func parse(yaml: String, environment: [String: String] = [:]) throws -> HikyakuConfiguration {
        var root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node.mapping(.init([]))
        } catch {
            throw ConfigurationError(key: "", problem: "not valid YAML: \(error)")
        }
        if case .scalar(let scalar) = root, scalar.string.isEmpty { root = .mapping(.init([])) }
        guard root.mapping != nil else {
            throw ConfigurationError(key: "", problem: "the file must be a YAML mapping of keys (hostname:, redis:, ingest:, delivery:)")
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(environmentPrefix) {
            let path = name.dropFirst(environmentPrefix.count).components(separatedBy: "__").map { $0.lowercased() }
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationError(key: name, problem: "environment override has an empty key part")
            }
            let parsed: Node
            do {
                parsed = try Yams.compose(yaml: value) ?? Node("")
            } catch {
                // Yams' message quotes the value, which may be a password: not shown.
                throw ConfigurationError(
                    key: path.joined(separator: "."),
                    problem: "value of \(name) is not valid YAML (put it in single quotes)")
            }
            try set(&root, path: path[...], value: parsed, fullKey: path.joined(separator: "."))
        }
        let serialized: String
        do { serialized = try Yams.serialize(node: root) } catch {
            throw ConfigurationError(key: "", problem: "\(error)")
        }
        let configuration: HikyakuConfiguration
        do {
            configuration = try YAMLDecoder().decode(HikyakuConfiguration.self, from: serialized)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw describe(error)
        }
        try configuration.validate()
        try configuration.delivery.validatePresetNames()
        return configuration
    }

    private static func set(_ node: inout Node, path: ArraySlice<String>, value: Node, fullKey: String) throws {
        // `redis:` with nothing after it (or only a comment) is an empty mapping here.
        if case .scalar(let scalar) = node, ["", "~", "null"].contains(scalar.string) {
            node = .mapping(.init([]))
        }
        guard var mapping = node.mapping else {
            throw ConfigurationError(key: fullKey, problem: "cannot override inside a value that is not a mapping")
        }
        let key = path.first!
        if path.count == 1 {
            mapping[key] = value
        } else {
            var child = mapping[key] ?? Node.mapping(.init([]))
            try set(&child, path: path.dropFirst(), value: value, fullKey: fullKey)
            mapping[key] = child
        }
        node = .mapping(mapping)
    }

    static func describe(_ error: DecodingError) -> ConfigurationError {
        // Yams wraps errors thrown by our own decoders (unknown keys) in dataCorrupted.
        if case .dataCorrupted(let context) = error, let ours = context.underlyingError as? ConfigurationError {
            return ours
        }
        switch error {
        case .typeMismatch(let type, let context):
            return ConfigurationError(key: ConfigurationError.path(context.codingPath), problem: "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return ConfigurationError(key: ConfigurationError.path(context.codingPath), problem: "a value (\(typeName(type))) is required")
        case .keyNotFound(let key, let context):
            return ConfigurationError(key: ConfigurationError.path(context.codingPath + [key]), problem: "is required")
        case .dataCorrupted(let context):
            return ConfigurationError(key: ConfigurationError.path(context.codingPath), problem: context.debugDescription)
        @unknown default:
            return ConfigurationError(key: "", problem: "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "a whole number"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a mapping" }
            return "a \(name) value"
        }
    }
}
