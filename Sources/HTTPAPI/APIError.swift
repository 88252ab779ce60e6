import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered as `{"error": {"code": …, "message": …}}` with its HTTP status (and
/// `Retry-After` where waiting helps). Messages name the field at fault and never echo a
/// secret (API keys, passwords) back.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable machine-readable code: `invalid_json`, `invalid_field`, `unauthorized`, …
    public var code: String
    public var message: String
    /// Seconds, for `Retry-After` (RFC 9110 §10.2.3) on 429 and 503.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// 422: a field's value is wrong. `field` is its JSON path, e.g. `to[2].email`.
    static func invalid(_ field: String, _ problem: String) -> APIError {
        APIError(.unprocessableContent, "invalid_field", "\(field): \(problem)")
    }

    static func badJSON(_ problem: String) -> APIError {
        APIError(.badRequest, "invalid_json", problem)
    }

    static let unauthorized = APIError(
        .unauthorized, "unauthorized",
        "an API key is required: Authorization: Bearer <key> (create one with `hikyaku account api-key create`)")

    static func forbidden(_ problem: String) -> APIError { APIError(.forbidden, "forbidden", problem) }

    static func redisUnavailable() -> APIError {
        APIError(.serviceUnavailable, "unavailable", "the queue is unavailable; nothing was stored, try again", retryAfter: 5)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"hikyaku\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    /// The body, also used when the error is one item of a batch answer.
    var jsonObject: [String: String] { ["code": code, "message": message] }

    var jsonBody: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(["error": jsonObject])) ?? Data("{\"error\":{\"code\":\"internal\"}}".utf8))
    }
}
