import Hummingbird
import Logging
import NIOCore
import RelayCore

/// Per request: where it came from and, once authenticated, whose key it carries.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address (for `Received:`, logs and the plain-HTTP network check).
    public let clientIP: String?
    /// Set by ``APIKeyAuthenticator`` for every `/v1` route.
    var caller: APICaller?
    /// Filled in by the server from `api.max_request_size`.
    var maxBodySize: Int = 10 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientIP = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { maxBodySize }

    /// The caller, or 401 when the route was reached without the authenticator.
    func requireCaller() throws(APIError) -> APICaller {
        guard let caller else { throw APIError.unauthorized }
        return caller
    }
}

/// An authenticated API key and the account it belongs to.
struct APICaller: Sendable {
    var account: Account
    var keyID: String
    var scopes: Set<APIScope>
    /// The key's own request rate, if it has one (else `api.key_rate`).
    var rate: Rate?

    func require(_ scope: APIScope) throws(APIError) {
        guard scopes.contains(scope) else {
            throw APIError.forbidden("this API key lacks the '\(scope.rawValue)' scope")
        }
    }
}
