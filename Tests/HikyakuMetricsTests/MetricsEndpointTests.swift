import Metrics
import NIOHTTP1
import Prometheus
import Testing

@testable import HikyakuMetrics

/// The routing table, without sockets.
struct MetricsEndpointTests {
    let registry = PrometheusCollectorRegistry()
    var endpoint: MetricsEndpoint { MetricsEndpoint(registry: registry) }

    @Test func metricsIsTheRegistryExposition() {
        Counter(label: "hikyaku_test_total", dimensions: [("site", "example")], factory: PrometheusMetricsFactory(registry: registry))
            .increment(by: 7)
        let response = endpoint.respond(method: .GET, uri: "/metrics")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == ["text/plain; version=0.0.4; charset=utf-8"])
        #expect(response.body == registry.emitToBuffer())
        #expect(String(decoding: response.body, as: UTF8.self).contains(#"hikyaku_test_total{site="example"} 7"#))
    }

    @Test func queryStringIsIgnored() {
        #expect(endpoint.respond(method: .GET, uri: "/metrics?name[]=x").status == .ok)
        #expect(endpoint.respond(method: .GET, uri: "/healthz?").status == .ok)
    }

    @Test func healthz() {
        let response = endpoint.respond(method: .GET, uri: "/healthz")
        #expect(response.status == .ok)
        #expect(response.body == Array("ok".utf8))
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .DELETE, .PATCH, .OPTIONS, .TRACE, .CONNECT])
    func knownPathWithOtherMethodIs405(method: HTTPMethod) {
        for path in ["/metrics", "/healthz"] {
            let response = endpoint.respond(method: method, uri: path)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers["Allow"] == ["GET, HEAD"])
        }
    }

    @Test func unknownPathIs404WhateverTheMethod() {
        #expect(endpoint.respond(method: .GET, uri: "/").status == .notFound)
        #expect(endpoint.respond(method: .POST, uri: "/api").status == .notFound)
        #expect(endpoint.respond(method: .GET, uri: "/METRICS").status == .notFound)
    }

    @Test func headIsAnsweredLikeGet() {
        #expect(endpoint.respond(method: .HEAD, uri: "/metrics") == endpoint.respond(method: .GET, uri: "/metrics"))
    }
}
