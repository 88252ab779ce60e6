import CampaignRunner
import Hummingbird
import HummingbirdCore
import Ingest
import LogStore
import Logging
import NIOCore
import Queue
import RelayCore
import ServiceLifecycle
import UnsubscribeEndpoint
import Webhooks

/// The HTTP API's `Service` (role `api`, and `all`): one server per `api.listen` (HTTPS)
/// and `api.plain_listen` (plain HTTP for `api.plain_networks`) address, all serving the
/// same routes:
///
/// ```
/// POST /v1/messages            send one message                      scope send
/// POST /v1/messages/batch      one template, many personalizations   scope send
/// GET  /v1/messages/{id}       envelope, each recipient's status     scope read
/// GET  /v1/events              the account's events, newest first    scope read
/// GET  /v1/stats               hourly counts from the log store      scope read
/// GET, POST /v1/webhooks, DELETE /v1/webhooks/{id}: its webhooks      scope webhooks
/// GET, POST /v1/suppressions, DELETE /v1/suppressions/{address}        scope suppressions
/// POST /v1/campaigns, POST /v1/campaigns/{id}/pause|resume|cancel       scope send
/// GET  /v1/campaigns, /v1/campaigns/{id}                                scope read
/// GET  /v1/openapi.json        the OpenAPI 3.1 document
/// GET  /readyz                 200 while Redis answers, else 503
/// GET, POST /u/{token}         one-click unsubscribe (no API key; `UnsubscribeEndpoint`)
/// ```
public struct APIServer: Service, CustomStringConvertible {
    let settings: APISettings
    let handlers: APIHandlers
    let tls: ServerTLS?
    let ready: @Sendable () async -> Bool
    let unsubscribe: UnsubscribeEndpoint?
    let logger: Logger

    public var description: String { "APIServer(\((settings.listen + settings.plainListen).joined(separator: ", ")))" }

    /// `logs`: the log store (`logs.sqlite_path` or `logs.postgres_url`), for `/v1/stats` and for history the
    /// events stream no longer holds; nil without one. `ready`: whether this node can accept now (Redis reachable), for `/readyz`.
    public init(
        settings: APISettings, hostname: String, intake: MessageIntake, queue: MessageQueue, accounts: AccountDirectory,
        store: AccountStore, webhooks: WebhookRegistry, suppression: SuppressionSettings = .init(), logs: (any LogReader)? = nil,
        unsubscribeReady: Bool = false, tls: ServerTLS?, ready: @escaping @Sendable () async -> Bool,
        unsubscribe: UnsubscribeEndpoint? = nil,
        logger: Logger
    ) {
        self.settings = settings
        self.unsubscribe = unsubscribe
        let submission = APISubmission(intake: intake, hostname: hostname)
        self.handlers = APIHandlers(
            settings: settings, submission: submission, queue: queue, authenticator: APIKeyAuthenticator(store: store, accounts: accounts),
            batch: BatchSubmission(submission: submission), reads: ReadHandlers(events: queue.eventLog, logs: logs),
            stats: StatsHandler(logs: logs),
            webhooks: WebhookHandlers(registry: webhooks),
            suppressions: SuppressionHandlers(store: queue.suppressions, settings: suppression),
            campaigns: CampaignHandlers(
                desk: CampaignDesk(campaigns: queue.campaigns, lists: queue.lists, accounts: store, unsubscribeReady: unsubscribeReady)),
            protocolName: "HTTPS")
        self.tls = tls
        self.ready = ready
        self.logger = logger
    }

    public func run() async throws {
        var servers: [any Service] = []
        for address in settings.listen {
            servers.append(try application(address: address, secure: true))
        }
        for address in settings.plainListen {
            servers.append(try application(address: address, secure: false))
        }
        guard !servers.isEmpty else {
            logger.warning("the HTTP API has no address to listen on: set api.listen (HTTPS) or api.plain_listen")
            // A service that returns ends its ServiceGroup (the default termination
            // behaviour): without this wait, `--role all` with no API address stopped its
            // delivery worker at once. Idle until the process shuts down.
            try? await gracefulShutdown()
            return
        }
        try await ServiceGroup(configuration: .init(services: servers, logger: logger)).run()
    }

    func application(address: String, secure: Bool) throws -> some Service {
        guard let (host, port) = HostPort.parse(address) else { throw APIServerError("'\(address)' is not host:port") }
        if secure, tls == nil { throw APIServerError("api.listen needs ingest.tls") }
        var handlers = self.handlers
        handlers.protocolName = secure ? "HTTPS" : "HTTP"
        let router = Self.router(handlers, maxBodySize: settings.maxRequestSize.bytes, ready: ready, unsubscribe: unsubscribe)
        let tls = secure ? self.tls : nil
        let plainNetworks = secure ? nil : settings.plainNetworks
        let server = HTTPServerBuilder { responder in
            GuardedHTTPChannel(
                base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: .seconds(60))), tls: tls,
                plainNetworks: plainNetworks)
        }
        var serverLogger = logger
        serverLogger[metadataKey: "api_listener"] = "\(address)"
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "hikyaku"),
            onServerRunning: { [serverLogger] channel in
                serverLogger.notice(
                    "HTTP API listening on \(channel.localAddress.map { "\($0)" } ?? address) (\(secure ? "HTTPS" : "plain HTTP"))")
            },
            logger: serverLogger)
    }

    static func router(
        _ handlers: APIHandlers, maxBodySize: Int, ready: @escaping @Sendable () async -> Bool, unsubscribe: UnsubscribeEndpoint? = nil
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: BodyLimitMiddleware(maxBodySize: maxBodySize))
        // No API key: the reader's mail client POSTs it (RFC 8058); the token is the authority.
        unsubscribe?.register(on: router)
        router.get("/readyz") { _, _ -> Response in
            let ok = await ready()
            return APIHandlers.jsonResponse(
                ok ? .ok : .serviceUnavailable, Array((ok ? #"{"status":"ready"}"# : #"{"status":"unavailable"}"#).utf8))
        }
        router.get("/v1/openapi.json") { _, _ -> Response in
            APIHandlers.jsonResponse(.ok, OpenAPIDocument.json)
        }
        router.post("/v1/messages") { request, context in try await handlers.send(request, context) }
        router.post("/v1/messages/batch") { request, context in try await handlers.sendBatch(request, context) }
        router.get("/v1/messages/{id}") { request, context in try await handlers.message(request, context) }
        router.get("/v1/events") { request, context in try await handlers.events(request, context) }
        router.get("/v1/stats") { request, context in try await handlers.stats(request, context) }
        router.get("/v1/webhooks") { request, context in try await handlers.listWebhooks(request, context) }
        router.post("/v1/webhooks") { request, context in try await handlers.addWebhook(request, context) }
        router.delete("/v1/webhooks/{id}") { request, context in try await handlers.removeWebhook(request, context) }
        router.get("/v1/suppressions") { request, context in try await handlers.listSuppressions(request, context) }
        router.post("/v1/suppressions") { request, context in try await handlers.addSuppressions(request, context) }
        router.delete("/v1/suppressions/{address}") { request, context in try await handlers.removeSuppression(request, context) }
        router.post("/v1/campaigns") { request, context in try await handlers.createCampaign(request, context) }
        router.get("/v1/campaigns") { request, context in try await handlers.listCampaigns(request, context) }
        router.get("/v1/campaigns/{id}") { request, context in try await handlers.campaign(request, context) }
        // One route for every action, so an unknown one gets the API's JSON 404 rather than
        // the router's empty one.
        router.post("/v1/campaigns/{id}/{action}") { request, context in
            try await handlers.changeCampaign(request, context, action: context.parameters.get("action") ?? "")
        }
        return router
    }
}

/// Sets the context's body limit (`api.max_request_size`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let maxBodySize: Int

    func handle(
        _ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.maxBodySize = maxBodySize
        return try await next(request, context)
    }
}

struct APIServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
