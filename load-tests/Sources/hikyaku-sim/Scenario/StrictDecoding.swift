import RelayCore

extension Decoder {
    /// Throws ``ScenarioError/unknownKey(_:)`` for a key of this object that `Keys` does not
    /// define, so a misspelt behaviour fails loudly instead of being ignored.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        if let path = try firstUnknownKey(keys) {
            throw ScenarioError.unknownKey(path)
        }
    }

    /// The path of this value in the document, e.g. `sites[0].behaviours`.
    var keyPath: String {
        AnyCodingKey.path(self.codingPath)
    }
}
