import HikyakuMetrics
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import Testing

/// End-to-end: a real server on a loopback port, a raw TCP client, metrics created through
/// the swift-metrics API against a private registry (the global `MetricsSystem` is never
/// bootstrapped in tests).
@Suite(.timeLimit(.minutes(1)))
struct MetricsServerTests {
    let registry = PrometheusCollectorRegistry()

    @Test func metricsExposesCountersWithTheirLabelsAndValues() async throws {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        Counter(label: MetricNames.messagesAccepted, dimensions: [(MetricNames.Label.listener, "relay")], factory: factory)
            .increment(by: 3)
        Counter(
            label: MetricNames.deliveries,
            dimensions: [
                (MetricNames.Label.outcome, MetricNames.DeliveryOutcome.delivered.rawValue), (MetricNames.Label.site, "google"),
            ], factory: factory
        ).increment()

        try await withMetricsServer(registry: registry) { port, _ in
            let response = try await RawHTTPConnection.withConnection(port: port) { try await $0.request("GET", "/metrics") }
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.body.split(separator: "\n").map(String.init)
            #expect(lines.contains("# TYPE hikyaku_messages_accepted_total counter"))
            #expect(lines.contains(#"hikyaku_messages_accepted_total{listener="relay"} 3"#))
            #expect(lines.contains(#"hikyaku_deliveries_total{outcome="delivered",site="google"} 1"#))
        }
    }

    @Test func eachScrapeShowsTheCurrentValue() async throws {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        let sessions = Meter(label: MetricNames.ingestSessions, dimensions: [(MetricNames.Label.listener, "submission")], factory: factory)
        sessions.increment()

        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let first = try await connection.request("GET", "/metrics")
                #expect(first.body.contains(#"hikyaku_ingest_sessions{listener="submission"} 1.0"#))
                sessions.increment()
                sessions.increment()
                sessions.decrement()
                let second = try await connection.request("GET", "/metrics")
                #expect(second.body.contains("# TYPE hikyaku_ingest_sessions gauge"))
                #expect(second.body.contains(#"hikyaku_ingest_sessions{listener="submission"} 2.0"#))
            }
        }
    }

    @Test func healthzAnswersOk() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            let response = try await RawHTTPConnection.withConnection(port: port) { try await $0.request("GET", "/healthz") }
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.body == "ok")
        }
    }

    @Test(arguments: ["/", "/metric", "/metrics/", "/healthz/x", "/favicon.ico"])
    func unknownPathsAreNotFound(path: String) async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            let response = try await RawHTTPConnection.withConnection(port: port) { try await $0.request("GET", path) }
            #expect(response.status == 404)
        }
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS"])
    func otherMethodsAreNotAllowed(method: String) async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                try await connection.send("\(method) /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
                let response = try await connection.readResponse()
                #expect(response.status == 405)
                #expect(response.header("Allow") == "GET, HEAD")
                // The discarded request body did not desynchronise the connection.
                let next = try await connection.request("GET", "/healthz")
                #expect(next.status == 200)
            }
        }
    }

    @Test func twoRequestsOnOneKeepAliveConnection() async throws {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        Counter(label: MetricNames.claimDuplicates, factory: factory).increment(by: 2)

        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let first = try await connection.request("GET", "/metrics")
                #expect(first.status == 200)
                #expect(first.header("Connection") == nil)
                #expect(first.body.contains("hikyaku_claim_duplicates_total 2\n"))
                let second = try await connection.request("GET", "/healthz")
                #expect(second.status == 200)
                #expect(second.body == "ok")
            }
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                try await connection.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await connection.readResponse().status == 404)
                #expect(try await connection.readResponse().status == 200)
            }
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let response = try await connection.request("GET", "/healthz", headers: ["Connection: close"])
                #expect(response.status == 200)
                #expect(response.header("Connection") == "close")
                #expect(try await connection.readUntilClosed() == "")
            }
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheResponse() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                try await connection.send("GET /healthz HTTP/1.0\r\n\r\n")
                let response = try await connection.readResponse()
                #expect(response.statusLine == "HTTP/1.0 200 OK")
                #expect(try await connection.readUntilClosed() == "")
            }
        }
    }

    @Test func headAnswersHeadersWithoutBody() async throws {
        let factory = HikyakuMetrics.makeFactory(registry: registry)
        Counter(label: MetricNames.messagesAccepted, dimensions: [(MetricNames.Label.listener, "relay")], factory: factory).increment()

        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let head = try await connection.request("HEAD", "/metrics")
                #expect(head.status == 200)
                #expect((head.header("Content-Length").flatMap(Int.init) ?? 0) > 0)
                // Had a body been sent, it would be read here instead of the next status line.
                let next = try await connection.request("GET", "/healthz")
                #expect(next.statusLine == "HTTP/1.1 200 OK")
            }
        }
    }

    @Test func malformedRequestGets400() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                try await connection.send("NOT HTTP AT ALL\r\n\r\n")
                let response = try await connection.readResponse(bodyExpected: false)
                #expect(response.status == 400)
            }
        }
    }

    @Test func idleConnectionsAreClosed() async throws {
        try await withMetricsServer(registry: registry, idleTimeout: .seconds(2)) { port, _ in
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let response = try await connection.request("GET", "/healthz")
                #expect(response.status == 200)
                let remainder = try await connection.readUntilClosed()
                #expect(remainder == "")
            }
        }
    }

    /// The open keep-alive connection is closed by the shutdown, and the server's `run()`
    /// returns — which it does only once the listening channel's close has completed. (A
    /// new connection to the old port is not the check: under a parallel test run the
    /// kernel may hand that port to another test's listener, or to the connecting socket
    /// itself, and the connection would succeed for reasons of its own.)
    @Test func gracefulShutdownClosesListenerAndOpenConnections() async throws {
        let logs = LogCapture()
        var boundPort = 0
        try await withMetricsServer(registry: registry, logs: logs) { port, shutdown in
            boundPort = port
            try await RawHTTPConnection.withConnection(port: port) { connection in
                let response = try await connection.request("GET", "/healthz")
                #expect(response.status == 200)
                await shutdown()
                let remainder = try await connection.readUntilClosed()
                #expect(remainder == "")
            }
        }
        let notices = logs.entries.filter { $0.level == .notice }.map(\.message)
        #expect(notices.contains("Metrics endpoint on 127.0.0.1:\(boundPort) stopped"))
    }

    @Test func boundAddressIsLoggedAtNotice() async throws {
        let logs = LogCapture()
        var boundPort = 0
        try await withMetricsServer(registry: registry, logs: logs) { port, _ in
            boundPort = port
        }
        let notices = logs.entries.filter { $0.level == .notice }.map(\.message)
        #expect(notices.contains("Metrics endpoint listening on http://127.0.0.1:\(boundPort)/metrics"))
    }

    @Test func bindFailureNamesTheAddress() async throws {
        try await withMetricsServer(registry: registry) { port, _ in
            let address = "127.0.0.1:\(port)"
            let second = MetricsServer(
                address: address, registry: registry, logger: LogCapture().logger(),
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            let error = await #expect(throws: MetricsServerError.self) { try await second.run() }
            #expect(error?.address == address)
            #expect(error?.isInvalidAddress == false)
            #expect(error?.description.contains(address) == true)
        }
    }

    @Test(arguments: ["localhost", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "::1:9464", ":9464"])
    func malformedAddressIsRefused(address: String) async throws {
        let server = MetricsServer(
            address: address, registry: registry, logger: LogCapture().logger(),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
        let error = await #expect(throws: MetricsServerError.self) { try await server.run() }
        #expect(error?.isInvalidAddress == true)
        #expect(error?.description.contains("'\(address)'") == true)
    }
}
