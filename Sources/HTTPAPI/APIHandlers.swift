import DKIM
import Foundation
import HTTPTypes
import Hummingbird
import Ingest
import Logging
import NIOCore
import Queue
import RelayCore

/// The `/v1` endpoints' work, independent of routing: authenticate, limit, decode,
/// submit, answer.
struct APIHandlers: Sendable {
    let settings: APISettings
    let submission: APISubmission
    let queue: MessageQueue
    let authenticator: APIKeyAuthenticator
    let batch: BatchSubmission
    let reads: ReadHandlers
    let stats: StatsHandler
    let webhooks: WebhookHandlers
    let suppressions: SuppressionHandlers
    let campaigns: CampaignHandlers
    /// `HTTPS` or `HTTP`: the listener these handlers serve (for `Received:`).
    var protocolName: String

    // MARK: Send

    /// `POST /v1/messages`.
    func send(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .send)
        let body = try await collectBody(request, context)
        return try await idempotent(request, caller: caller, body: body, logger: context.logger) {
            () async throws(APIError) -> (HTTPResponse.Status, [UInt8]) in
            let message: SendMessageRequest = try decodeJSON(body)
            let accepted = try await submission.submit(message, from: origin(caller, request, context))
            return (.accepted, try encodeJSON(accepted))
        }
    }

    /// `POST /v1/messages/batch`.
    func sendBatch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .send)
        let body = try await collectBody(request, context)
        return try await idempotent(request, caller: caller, body: body, logger: context.logger) {
            () async throws(APIError) -> (HTTPResponse.Status, [UInt8]) in
            let batchRequest: BatchRequest = try decodeJSON(body)
            let answer = try await batch.submit(batchRequest, from: origin(caller, request, context), limit: settings.maxBatchSize)
            return (answer.allRefused ? .unprocessableContent : .accepted, try encodeJSON(answer))
        }
    }

    // MARK: Read

    /// `GET /v1/events`.
    func events(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .read)
        return Self.jsonResponse(.ok, try encodeJSON(try await reads.list(request, caller: caller)))
    }

    /// `GET /v1/messages/{id}`.
    func message(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .read)
        let id = context.parameters.get("id") ?? ""
        return Self.jsonResponse(.ok, try encodeJSON(try await reads.message(id, caller: caller)))
    }

    /// `GET /v1/stats`.
    func stats(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .read)
        return Self.jsonResponse(.ok, try encodeJSON(try await stats.stats(request, caller: caller)))
    }

    // MARK: Webhooks

    /// `POST /v1/webhooks`.
    func addWebhook(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .webhooks)
        return try await webhooks.add(try await collectBody(request, context), caller: caller)
    }

    /// `GET /v1/webhooks`.
    func listWebhooks(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await webhooks.list(caller: try await authorize(request, context, scope: .webhooks))
    }

    /// `DELETE /v1/webhooks/{id}`.
    func removeWebhook(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .webhooks)
        return try await webhooks.remove(context.parameters.get("id") ?? "", caller: caller)
    }

    // MARK: Suppressions

    // MARK: Campaigns

    /// `POST /v1/campaigns`.
    func createCampaign(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .send)
        return try await campaigns.create(try await collectBody(request, context), caller: caller)
    }

    /// `GET /v1/campaigns`.
    func listCampaigns(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await campaigns.list(caller: try await authorize(request, context, scope: .read))
    }

    /// `GET /v1/campaigns/{id}`.
    func campaign(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .read)
        return try await campaigns.show(context.parameters.get("id") ?? "", caller: caller)
    }

    /// `POST /v1/campaigns/{id}/pause|resume|cancel`.
    func changeCampaign(_ request: Request, _ context: APIRequestContext, action: String) async throws -> Response {
        let caller = try await authorize(request, context, scope: .send)
        guard ["pause", "resume", "cancel"].contains(action) else {
            throw APIError(.notFound, "not_found", "a campaign's actions are pause, resume and cancel")
        }
        return try await campaigns.change(context.parameters.get("id") ?? "", action: action, caller: caller)
    }

    /// `GET /v1/suppressions`.
    func listSuppressions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await suppressions.list(request, caller: try await authorize(request, context, scope: .suppressions))
    }

    /// `POST /v1/suppressions`.
    func addSuppressions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .suppressions)
        return try await suppressions.add(try await collectBody(request, context), caller: caller)
    }

    /// `DELETE /v1/suppressions/{address}`.
    func removeSuppression(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = try await authorize(request, context, scope: .suppressions)
        let address = context.parameters.get("address") ?? ""
        return try await suppressions.remove(address.removingPercentEncoding ?? address, caller: caller)
    }

    // MARK: Plumbing

    func origin(_ caller: APICaller, _ request: Request, _ context: APIRequestContext) -> APISubmission.Origin {
        var logger = context.logger
        logger[metadataKey: "account"] = "\(caller.account.name)"
        return .init(caller: caller, clientIP: context.clientIP, protocolName: protocolName, logger: logger)
    }

    /// The caller, if its key is valid, has `scope` and is within its request rate.
    func authorize(_ request: Request, _ context: APIRequestContext, scope: APIScope) async throws(APIError) -> APICaller {
        let caller = try await authenticator.authenticate(authorization: request.headers[.authorization])
        try caller.require(scope)
        let wait: Duration?
        do {
            wait = try await queue.takeAPIRequest(keyID: caller.keyID, rate: caller.rate ?? settings.keyRate)
        } catch {
            throw APIError.redisUnavailable()
        }
        if let wait {
            let seconds = max(1, Int((wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000 + 999) / 1000))
            throw APIError(.tooManyRequests, "rate_limited", "this API key's request rate is used up", retryAfter: seconds)
        }
        return caller
    }

    /// The request body, at most `api.max_request_size` (`413` beyond, refused before
    /// reading when `Content-Length` says so).
    func collectBody(_ request: Request, _ context: APIRequestContext) async throws(APIError) -> ByteBuffer {
        let limit = settings.maxRequestSize.bytes
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            await Self.discard(request, upTo: 4 * limit)
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
        }
        if let declared, declared > limit {
            await Self.discard(request, upTo: 4 * limit)
            throw APIError(.contentTooLarge, "too_large", "the request is \(declared) octets; api.max_request_size is \(limit)")
        }
        var body = ByteBuffer()
        do {
            for try await chunk in request.body {
                guard body.readableBytes + chunk.readableBytes <= limit else {
                    await Self.discard(request, upTo: 3 * limit)
                    throw APIError(.contentTooLarge, "too_large", "the request is larger than api.max_request_size (\(limit) octets)")
                }
                body.writeImmutableBuffer(chunk)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "bad_request", "the request body could not be read")
        }
        return body
    }

    /// Reads and drops what is left of a refused request's body (up to `limit` octets), so
    /// a client that writes its whole body before reading (most do) gets the answer rather
    /// than a reset connection. Beyond `limit` the connection is simply closed.
    static func discard(_ request: Request, upTo limit: Int) async {
        var seen = 0
        do {
            for try await chunk in request.body {
                seen += chunk.readableBytes
                if seen > limit { return }
            }
        } catch {}
    }

    // MARK: Idempotency-Key

    /// Runs `work` once per `Idempotency-Key` and account: a repeat within `api.idempotency_ttl`
    /// gets the first answer (nothing new is stored); while the first is in flight a repeat
    /// waits for it (up to `api.idempotency_wait`, then 409); the same key with another body
    /// is a 422. Answers worth retrying (503) are not kept.
    func idempotent(
        _ request: Request, caller: APICaller, body: ByteBuffer, logger: Logger,
        _ work: () async throws(APIError) -> (HTTPResponse.Status, [UInt8])
    ) async throws(APIError) -> Response {
        guard let key = request.headers[.idempotencyKey] else {
            let (status, json) = try await work()
            return Self.jsonResponse(status, json)
        }
        guard !key.isEmpty, key.utf8.count <= 255 else {
            throw APIError.invalid("Idempotency-Key", "must be 1 to 255 characters")
        }
        let keyHash: String
        let bodyHash: String
        do {
            keyHash = try Digest.sha256Hex(key)
            bodyHash = try Digest.sha256Hex(String(decoding: body.readableBytesView, as: UTF8.self))
        } catch {
            throw APIError(.internalServerError, "internal", "cannot hash the idempotency key")
        }
        let account = caller.account.name
        let wait = settings.idempotencyWait.duration
        let found: MessageQueue.IdempotencyRecord?
        do {
            found = try await queue.beginIdempotent(
                account: account, keyHash: keyHash, requestHash: bodyHash, inFlightFor: wait + .seconds(60))
        } catch {
            throw APIError.redisUnavailable()
        }
        if var record = found {
            let deadline = ContinuousClock.now + wait
            while record.answer == nil, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(100))
                do {
                    guard let again = try await queue.idempotencyRecord(account: account, keyHash: keyHash) else { break }
                    record = again
                } catch {
                    throw APIError.redisUnavailable()
                }
            }
            guard record.requestHash == bodyHash else {
                throw APIError(.unprocessableContent, "idempotency_key_reused", "this Idempotency-Key was used with another request body")
            }
            guard let answer = record.answer, let status = record.status else {
                throw APIError(.conflict, "idempotency_in_progress", "a request with this Idempotency-Key is still in progress; try again")
            }
            var response = Self.jsonResponse(.init(code: status), Array(answer.utf8))
            response.headers[.idempotentReplayed] = "true"
            return response
        }
        let status: HTTPResponse.Status
        let json: [UInt8]
        do {
            (status, json) = try await work()
        } catch {
            // Nothing was stored and trying again later may succeed: forget the key.
            if error.status == .serviceUnavailable || error.status == .tooManyRequests {
                await queue.abandonIdempotent(account: account, keyHash: keyHash)
                throw error
            }
            (status, json) = (error.status, error.jsonBody)
        }
        let record = MessageQueue.IdempotencyRecord(
            requestHash: bodyHash, status: status.code, answer: String(decoding: json, as: UTF8.self))
        do {
            try await queue.finishIdempotent(account: account, keyHash: keyHash, record: record, keepFor: settings.idempotencyTTL.duration)
        } catch {
            logger.warning("cannot store the answer of an Idempotency-Key (a repeat may run again): \(error)")
        }
        return Self.jsonResponse(status, json)
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ json: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// JSON in (strict, errors naming the field) and out (sorted keys).
func decodeJSON<T: Decodable>(_ body: ByteBuffer) throws(APIError) -> T {
    do {
        return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    } catch let error as APIError {
        throw error
    } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
        throw APIError.badJSON("the body is not JSON: \(context.debugDescription)")
    } catch let DecodingError.dataCorrupted(context) {
        throw APIError.invalid(AnyCodingKey.path(context.codingPath), context.debugDescription)
    } catch let DecodingError.keyNotFound(key, context) {
        throw APIError.invalid(AnyCodingKey.path(context.codingPath + [key]), "is required")
    } catch let DecodingError.typeMismatch(type, context) {
        throw APIError.invalid(AnyCodingKey.path(context.codingPath), "must be \(APIError.jsonTypeName(type))")
    } catch let DecodingError.valueNotFound(type, context) {
        throw APIError.invalid(AnyCodingKey.path(context.codingPath), "must be \(APIError.jsonTypeName(type)), not null")
    } catch {
        throw APIError.badJSON("the body is not valid JSON")
    }
}

func encodeJSON(_ value: some Encodable) throws(APIError) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do { return Array(try encoder.encode(value)) } catch { throw APIError(.internalServerError, "internal", "cannot encode the answer") }
}

extension APIError {
    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object or array of the documented shape"
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
