import HTTPTypes
import HikyakuMetrics
import Hummingbird
import Logging
import Metrics
import NIOCore
import Queue
import RelayCore
import Unsubscribe

/// `/u/<token>`, the one-click unsubscribe endpoint (RFC 8058), on whichever server the
/// operator exposes at `campaigns.unsubscribe_base_url` — the console and the HTTP API both
/// register it, outside any login, session or CSRF check (a mail client POSTs it blind).
///
/// ```
/// C: POST /u/mfrgg…  HTTP/1.1                     (RFC 8058 §3.2)
/// C: Content-Type: application/x-www-form-urlencoded
/// C:
/// C: List-Unsubscribe=One-Click
/// S: HTTP/1.1 200 OK                              (no redirect, no cookie)
///
/// C: GET /u/mfrgg…                                → 200, a page with a button that POSTs
/// C: GET /u/forged…                               → 400; an expired token → 410
/// ```
///
/// `POST` adds the `unsubscribe` suppression and the `unsubscribed` event before it
/// answers (``SuppressionStore/unsubscribe(account:recipient:campaign:via:node:settings:)``,
/// once however often it is repeated); `GET` writes nothing, since link scanners fetch
/// every URL of a message. Any body is accepted (RFC 8058 names the one a client sends;
/// the page's form sends the same), up to ``maximumBodySize``.
public struct UnsubscribeEndpoint: Sendable {
    let links: UnsubscribeLinks
    let store: SuppressionStore
    let suppression: SuppressionSettings
    let node: String
    let logger: Logger

    /// Larger bodies are refused with 413: the one a client sends is 26 octets.
    public static let maximumBodySize = 4096

    public init(links: UnsubscribeLinks, store: SuppressionStore, suppression: SuppressionSettings, node: String, logger: Logger) {
        self.links = links
        self.store = store
        self.suppression = suppression
        self.node = node
        self.logger = logger
    }

    /// Adds `GET` and `POST /u/{token}` to `router` (before any middleware group that
    /// authenticates, so neither passes through one).
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/u/{token}") { request, context in self.confirm(request, token: context.parameters.get("token")) }
        router.post("/u/{token}") { request, context in await self.unsubscribe(request, token: context.parameters.get("token")) }
    }

    func confirm(_ request: Request, token text: String?) -> Response {
        let language = UnsubscribePage.Language(acceptLanguage: request.headers[.acceptLanguage])
        switch verify(text) {
        case .success(let token): return Self.page(.ok, UnsubscribePage.confirm(token, language: language))
        case .failure(let error): return Self.refusal(error, language)
        }
    }

    func unsubscribe(_ request: Request, token text: String?) async -> Response {
        let language = UnsubscribePage.Language(acceptLanguage: request.headers[.acceptLanguage])
        var request = request
        do { _ = try await request.collectBody(upTo: Self.maximumBodySize) } catch {
            return Self.page(.contentTooLarge, UnsubscribePage.render(.invalid, language: language))
        }
        let token: UnsubscribeToken
        switch verify(text) {
        case .success(let verified): token = verified
        case .failure(let error): return Self.refusal(error, language)
        }
        do {
            let wrote = try await store.unsubscribe(
                account: token.account, recipient: token.recipient, campaign: token.campaign, via: .link, node: node,
                settings: suppression)
            if wrote { Counter(label: MetricNames.unsubscribes, dimensions: [(MetricNames.Label.kind, "link")]).increment() }
            logger.info(
                "\(wrote ? "unsubscribed" : "already unsubscribed"): \(token.recipient) from account \(token.account)",
                metadata: token.campaign.map { ["campaign": "\($0)"] } ?? [:])
        } catch {
            logger.warning("could not record an unsubscribe of \(token.recipient) from account \(token.account): \(error)")
            return Self.page(.serviceUnavailable, UnsubscribePage.render(.unavailable, language: language), retryAfter: true)
        }
        return Self.page(.ok, UnsubscribePage.done(token, language: language))
    }

    private func verify(_ text: String?) -> Result<UnsubscribeToken, UnsubscribeError> {
        guard let text else { return .failure(.malformed) }
        do { return .success(try links.verify(text, nowMilliseconds: WallClock.nowMilliseconds())) } catch { return .failure(error) }
    }

    private static func refusal(_ error: UnsubscribeError, _ language: UnsubscribePage.Language) -> Response {
        error.isExpired
            ? page(.gone, UnsubscribePage.render(.expired, language: language))
            : page(.badRequest, UnsubscribePage.render(.invalid, language: language))
    }

    /// A page that no cache keeps, that sends no `Referer` with the token onwards, and that
    /// runs nothing.
    static func page(_ status: HTTPResponse.Status, _ html: String, retryAfter: Bool = false) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .init("Referrer-Policy")!: "no-referrer",
            .init("X-Content-Type-Options")!: "nosniff",
            // No script, no outside resource; the form may post only here.
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ]
        if retryAfter { headers[.retryAfter] = "60" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
