/// A pool of egress addresses (`delivery.egress[].pool`): an account's mail is sent only
/// from its pool's addresses, and every pool has its own queue (streams, ready index,
/// depth). Pool names appear in Redis keys: lower-case letters, digits, `-` and `_`.
public struct PoolName: StringIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The pool of addresses and accounts that name none.
    public static let `default`: PoolName = "default"

    /// Checks a pool name read from `key` (configuration or a command-line option).
    @discardableResult
    public static func validate(_ name: String, key: String) throws(ConfigurationError) -> PoolName {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        if name.isEmpty || name.count > 64 || !name.allSatisfy(allowed.contains) {
            throw ConfigurationError(key: key, problem: "'\(name)' is not a pool name (lower-case letters, digits, - and _)")
        }
        return PoolName(rawValue: name)
    }
}
