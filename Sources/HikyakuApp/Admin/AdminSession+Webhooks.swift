import NIOPosix
import Queue
import RelayCore
import Webhooks

/// An endpoint as `hikyaku webhook list` shows it (never its secrets).
public struct WebhookListing: Sendable {
    public var endpoint: WebhookEndpoint
    public var waiting: Int
    public var dead: Int
}

/// A consumer group of the events stream as `hikyaku events groups` shows it.
public typealias EventGroupInfo = EventGroups.Group

extension AdminSession {
    var webhookStore: WebhookStore { WebhookStore(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration)) }
    var eventGroups: EventGroups { EventGroups(redis: redis, configuration: HikyakuApplication.queueConfiguration(configuration)) }

    /// Checks the URL (scheme, host resolves, no refused address unless `allowPrivate`) and
    /// stores a new endpoint with a new secret; returns it (its secret is shown once).
    public func addWebhook(account: String, url text: String, events: [String]?, allowPrivate: Bool) async throws -> WebhookEndpoint {
        guard try await accountStore.account(named: account) != nil else { throw OperatorError("no account named \(account)") }
        do {
            let endpoint = try await WebhookRegistry(store: webhookStore, forbiddenNetworks: configuration.delivery.forbiddenNetworks)
                .add(account: account, url: text, events: events, allowPrivate: allowPrivate)
            await audit("webhook.add", [("account", account), ("id", endpoint.id), ("url", endpoint.url)])
            return endpoint
        } catch let refusal as WebhookRegistry.Refusal {
            throw OperatorError(refusal.description)
        }
    }

    public func webhooks(of account: String) async throws -> [WebhookListing] {
        var out: [WebhookListing] = []
        for endpoint in try await webhookStore.all() where endpoint.account == account {
            let counts = try await webhookStore.counts(endpoint.id)
            out.append(WebhookListing(endpoint: endpoint, waiting: counts.waiting, dead: counts.dead))
        }
        return out
    }

    func webhook(account: String, id: String) async throws -> WebhookEndpoint {
        guard let endpoint = try await webhookStore.endpoint(account: account, id: id) else {
            throw OperatorError("no webhook \(id) of account \(account)")
        }
        return endpoint
    }

    public func removeWebhook(account: String, id: String) async throws {
        _ = try await webhook(account: account, id: id)
        _ = try await webhookStore.remove(id)
        await audit("webhook.remove", [("account", account), ("id", id)])
    }

    /// Starts a rotation (a new secret first, the current one kept: requests carry both
    /// signatures) and returns the new secret; with `finish`, keeps only the newest.
    public func rotateWebhookSecret(account: String, id: String, finish: Bool) async throws -> String? {
        var endpoint = try await webhook(account: account, id: id)
        if finish {
            endpoint.secrets = Array(endpoint.secrets.prefix(1))
            try await webhookStore.put(endpoint)
            await audit("webhook.rotate_secret.finish", [("account", account), ("id", id)])
            return nil
        }
        let secret = WebhookSignature.newSecret()
        endpoint.secrets = [secret] + endpoint.secrets.prefix(1)
        try await webhookStore.put(endpoint)
        await audit("webhook.rotate_secret", [("account", account), ("id", id)])
        return secret
    }

    /// POSTs one synthetic, signed event to the endpoint now; returns what came back.
    public func testWebhook(account: String, id: String) async throws -> String {
        let endpoint = try await webhook(account: account, id: id)
        let poster = try WebhookPoster(
            group: MultiThreadedEventLoopGroup.singleton,
            screen: WebhookURLScreen(forbiddenNetworks: configuration.delivery.forbiddenNetworks),
            timeout: configuration.webhooks.requestTimeout.duration)
        let now = WallClock.nowMilliseconds()
        var event = DeliveryEvent(
            event: .delivered, time: WallClock.iso8601(milliseconds: now), queueID: "TEST", messageID: nil, sender: "test@hikyaku.invalid")
        event.recipient = "test@hikyaku.invalid"
        event.account = account
        event.reply = "250 2.0.0 test event from hikyaku webhook test"
        var body = Array(#"[{"event_id":"test-\#(now)","test":true,"#.utf8)
        body += event.jsonBytes().dropFirst()
        body += Array("]".utf8)
        switch await poster.post(endpoint, body: body, timestamp: now / 1000) {
        case .status(let code, let text): return "HTTP \(code)\(text.isEmpty ? "" : " " + text)"
        case .failed(let why): throw OperatorError("POST to \(endpoint.url) failed: \(why)")
        }
    }

    /// Moves the endpoint's dead letters back to its outbox.
    public func replayWebhook(account: String, id: String) async throws -> Int {
        _ = try await webhook(account: account, id: id)
        let moved = try await webhookStore.replay(id, maxOutbox: configuration.webhooks.maxOutbox).moved
        await audit("webhook.replay", [("account", account), ("id", id), ("moved", "\(moved)")])
        return moved
    }

    public func eventGroupList() async throws -> [EventGroupInfo] {
        try await eventGroups.groups()
    }

    public func removeEventGroup(_ name: String) async throws -> Bool {
        let removed = try await eventGroups.removeGroup(name)
        if removed { await audit("events.group.remove", [("group", name)]) }
        return removed
    }
}
