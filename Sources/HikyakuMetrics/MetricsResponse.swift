import NIOHTTP1

/// What the metrics endpoint answers to one request, before it is put on the wire.
struct MetricsResponse: Sendable, Equatable {
    /// The exposition format version Prometheus scrapes (text format 0.0.4).
    static let prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"
    static let plainTextContentType = "text/plain; charset=utf-8"

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]

    static func text(_ status: HTTPResponseStatus, _ text: String, extraHeaders: [(String, String)] = []) -> MetricsResponse {
        var headers = HTTPHeaders([("Content-Type", plainTextContentType)])
        headers.add(contentsOf: extraHeaders)
        return MetricsResponse(status: status, headers: headers, body: Array(text.utf8))
    }
}
