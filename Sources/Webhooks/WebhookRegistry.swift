import NIOPosix
import Queue
import RelayCore

/// Adding and removing an account's endpoints, the same for `hikyaku webhook` and
/// `/v1/webhooks`: the URL is checked (scheme, the host resolves, no refused address —
/// SSRF — unless private addresses are allowed, which only the operator may do) and a
/// new endpoint gets a new secret, shown once.
public struct WebhookRegistry: Sendable {
    let store: WebhookStore
    let screen: WebhookURLScreen

    public init(store: WebhookStore, forbiddenNetworks: [IPNetwork]) {
        self.store = store
        self.screen = WebhookURLScreen(forbiddenNetworks: forbiddenNetworks)
    }

    /// Why an endpoint cannot be added (the URL, or an unknown event kind).
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var description: String
    }

    /// At most this many endpoints per account.
    public static let maximumPerAccount = 20

    public func add(account: String, url text: String, events: [String]?, allowPrivate: Bool) async throws -> WebhookEndpoint {
        let url: WebhookURL
        do {
            url = try WebhookURL(parsing: text)
            let screen = self.screen
            _ = try await NIOThreadPool.singleton.runIfActive { try screen.screen(url, allowPrivate: allowPrivate) }
        } catch let error as WebhookError {
            throw Refusal(field: "url", description: "webhook URL '\(RemoteText.capped(text, maxBytes: 200))': \(error)")
        }
        let kinds = Set(DeliveryEvent.Kind.allCases.map(\.rawValue))
        if let unknown = events?.first(where: { !kinds.contains($0) }) {
            throw Refusal(
                field: "events",
                description:
                    "unknown event kind '\(RemoteText.capped(unknown, maxBytes: 40))' (one of \(kinds.sorted().joined(separator: ", ")))")
        }
        if try await store.all().count(where: { $0.account == account }) >= Self.maximumPerAccount {
            throw Refusal(field: "url", description: "account \(account) has \(Self.maximumPerAccount) webhooks already")
        }
        var rng = SystemRandomNumberGenerator()
        let id = String((0..<16).map { _ in Array("0123456789abcdef")[Int(rng.next(upperBound: UInt64(16)))] })
        let endpoint = WebhookEndpoint(
            id: id, account: account, url: url.description, events: events?.isEmpty == true ? nil : events,
            secrets: [WebhookSignature.newSecret()], createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()),
            allowPrivate: allowPrivate)
        try await store.put(endpoint)
        return endpoint
    }

    /// The account's endpoints.
    public func endpoints(of account: String) async throws(QueueError) -> [WebhookEndpoint] {
        try await store.all().filter { $0.account == account }.sorted { $0.createdAt < $1.createdAt }
    }

    /// Removes one of the account's endpoints; false when it has none with that id.
    public func remove(account: String, id: String) async throws(QueueError) -> Bool {
        guard try await store.endpoint(account: account, id: id) != nil else { return false }
        return try await store.remove(id)
    }
}
