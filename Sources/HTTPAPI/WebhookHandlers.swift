import Hummingbird
import NIOCore
import Queue
import RelayCore
import Webhooks

/// `/v1/webhooks` (scope `webhooks`): an account's own endpoints. Endpoints made here may
/// not point at private, loopback or link-local addresses (only the operator's `hikyaku
/// webhook add --allow-private` may); the secret is in the `201` answer only.
struct WebhookHandlers: Sendable {
    let registry: WebhookRegistry

    struct NewEndpoint: Decodable {
        var url: String
        var events: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable { case url, events }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decode(String.self, forKey: .url)
            events = try c.decodeIfPresent([String].self, forKey: .events)
        }
    }

    struct Shown: Encodable {
        var id: String
        var url: String
        var events: [String]
        var createdAt: String
        /// Only when it was just made.
        var secret: String?

        enum CodingKeys: String, CodingKey { case id, url, events, createdAt = "created_at", secret }

        init(_ endpoint: WebhookEndpoint, secret: String? = nil) {
            id = endpoint.id
            url = endpoint.url
            events = endpoint.events ?? DeliveryEvent.Kind.allCases.map(\.rawValue)
            createdAt = endpoint.createdAt
            self.secret = secret
        }
    }

    struct Listing: Encodable { var webhooks: [Shown] }

    func add(_ body: ByteBuffer, caller: APICaller) async throws(APIError) -> Response {
        let request: NewEndpoint = try decodeJSON(body)
        do {
            let endpoint = try await registry.add(
                account: caller.account.name, url: request.url, events: request.events, allowPrivate: false)
            return APIHandlers.jsonResponse(.created, try encodeJSON(Shown(endpoint, secret: endpoint.secrets.first)))
        } catch let refusal as WebhookRegistry.Refusal {
            throw APIError.invalid(refusal.field, refusal.description)
        } catch {
            throw APIError.redisUnavailable()
        }
    }

    func list(caller: APICaller) async throws(APIError) -> Response {
        do {
            let endpoints = try await registry.endpoints(of: caller.account.name)
            return APIHandlers.jsonResponse(.ok, try encodeJSON(Listing(webhooks: endpoints.map { Shown($0) })))
        } catch {
            throw APIError.redisUnavailable()
        }
    }

    func remove(_ id: String, caller: APICaller) async throws(APIError) -> Response {
        let removed: Bool
        do { removed = try await registry.remove(account: caller.account.name, id: id) } catch { throw APIError.redisUnavailable() }
        guard removed else {
            throw APIError(.notFound, "not_found", "no webhook \(RemoteText.capped(id, maxBytes: 40)) of account \(caller.account.name)")
        }
        return Response(status: .noContent)
    }
}
