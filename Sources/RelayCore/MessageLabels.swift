/// A message's `tags` and `metadata` (HTTP API): stored with it (`msg:<qid>` field `tm`)
/// and put on every event of it.
public struct MessageLabels: Sendable, Codable, Hashable {
    public var tags: [String]
    public var metadata: [String: String]

    public init(tags: [String], metadata: [String: String]) {
        self.tags = tags
        self.metadata = metadata
    }

    public var isEmpty: Bool { tags.isEmpty && metadata.isEmpty }

    /// Puts them on `event` (absent fields stay absent).
    public func label(_ event: inout DeliveryEvent) {
        if !tags.isEmpty { event.tags = tags }
        if !metadata.isEmpty { event.metadata = metadata }
    }
}
