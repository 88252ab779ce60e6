import NIOHTTP1
import Prometheus

/// Routing of the metrics HTTP server, without I/O: a request line in, a response out.
///
/// ```
/// C: GET /metrics HTTP/1.1
/// S: HTTP/1.1 200 OK
/// S: Content-Type: text/plain; version=0.0.4; charset=utf-8
/// S:
/// S: # TYPE hikyaku_messages_accepted_total counter
/// S: hikyaku_messages_accepted_total{listener="relay"} 42
/// ```
///
/// `GET /healthz` answers `200 ok`. `HEAD` is answered like `GET` without the body
/// (RFC 9110 §9.3.2). Any other method on a known path is `405` with `Allow`
/// (RFC 9110 §15.5.6); any unknown path is `404`. A query string is ignored.
struct MetricsEndpoint: Sendable {
    static let metricsPath = "/metrics"
    static let healthPath = "/healthz"
    static let allowedMethods = "GET, HEAD"

    let registry: PrometheusCollectorRegistry

    func respond(method: HTTPMethod, uri: String) -> MetricsResponse {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path == Self.metricsPath || path == Self.healthPath else {
            return .text(.notFound, "not found\n")
        }
        guard method == .GET || method == .HEAD else {
            return .text(.methodNotAllowed, "method not allowed\n", extraHeaders: [("Allow", Self.allowedMethods)])
        }
        if path == Self.healthPath {
            return .text(.ok, "ok")
        }
        var body: [UInt8] = []
        registry.emit(into: &body)
        return MetricsResponse(status: .ok, headers: HTTPHeaders([("Content-Type", MetricsResponse.prometheusContentType)]), body: body)
    }
}
