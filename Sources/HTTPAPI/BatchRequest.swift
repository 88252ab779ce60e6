import Foundation
import Mustache
import RelayCore

/// `POST /v1/messages/batch`: one template, up to `api.max_batch_size` personalizations,
/// each with its own recipients, variables and headers — one message (and one id) each.
///
/// Templates are Mustache (the engine campaigns use): `{{name}}` is HTML-escaped in
/// `html` and left as is in `text`, `subject` and headers (where CR and LF become spaces
/// and non-ASCII is RFC 2047-encoded by the composer). Variables are strings only, so a
/// section is a condition, never a loop: what a template renders is bounded by its size
/// and its variables'.
struct BatchRequest: Decodable, Sendable {
    /// Everything a single message has but the recipients (`to`, `cc`, `bcc`), which come
    /// from each personalization; `subject`, `text`, `html` and header values are templates.
    var template: SendMessageRequest
    var personalizations: [Personalization]

    struct Personalization: Decodable, Sendable {
        var to: [AddressField]
        var cc: [AddressField]
        var bcc: [AddressField]
        var variables: [String: String]
        var headers: [HeaderField]
        var metadata: [String: String]

        enum CodingKeys: String, CodingKey, CaseIterable { case to, cc, bcc, variables, headers, metadata }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownFields(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            to = try c.decodeAddressList(.to)
            cc = try c.decodeAddressList(.cc)
            bcc = try c.decodeAddressList(.bcc)
            variables = try c.decodeIfPresent([String: String].self, forKey: .variables) ?? [:]
            headers = (try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]).sorted { $0.key < $1.key }
                .map { HeaderField(name: $0.key, value: $0.value) }
            metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        }
    }

    enum CodingKeys: String, CodingKey { case personalizations }

    init(from decoder: any Decoder) throws {
        // The template's fields sit beside `personalizations`, as in a single message.
        let known = Set(SendMessageRequest.CodingKeys.allCases.map(\.stringValue)).union(["personalizations"])
            .subtracting(["to", "cc", "bcc", "raw", "envelope"])
        let all = try decoder.container(keyedBy: AnyCodingKey.self)
        if let unknown = all.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw APIError.invalid(unknown.stringValue, "unknown field here (recipients go in personalizations[])")
        }
        template = try SendMessageRequest(from: decoder, besides: ["personalizations"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.personalizations) else { throw APIError.invalid("personalizations", "is required") }
        personalizations = try c.decode([Personalization].self, forKey: .personalizations)
    }
}

extension KeyedDecodingContainer where Key == BatchRequest.Personalization.CodingKeys {
    func decodeAddressList(_ key: Key) throws -> [AddressField] {
        guard contains(key), try !decodeNil(forKey: key) else { return [] }
        if (try? nestedUnkeyedContainer(forKey: key)) != nil { return try decode([AddressField].self, forKey: key) }
        return [try decode(AddressField.self, forKey: key)]
    }
}

/// Renders and submits a batch: everything is checked first (any invalid item is a 422
/// naming it and nothing is stored), then each message is enqueued on its own, so the
/// answer may list some ids and some errors (a quota reached half-way).
struct BatchSubmission: Sendable {
    let submission: APISubmission
    /// Items of one batch being enqueued at once.
    static let parallelSubmissions = 32

    struct Answer: Sendable, Encodable {
        var results: [Item]
        var allRefused: Bool { !results.isEmpty && results.allSatisfy { $0.error != nil } }
    }

    struct Item: Sendable, Encodable {
        var accepted: APISubmission.Accepted?
        var error: [String: String]?

        func encode(to encoder: any Encoder) throws {
            if let accepted { try accepted.encode(to: encoder) }
            if let error {
                var c = encoder.container(keyedBy: AnyCodingKey.self)
                try c.encode(error, forKey: AnyCodingKey(stringValue: "error"))
            }
        }
    }

    func submit(_ batch: BatchRequest, from origin: APISubmission.Origin, limit: Int) async throws(APIError) -> Answer {
        guard !batch.personalizations.isEmpty else { throw APIError.invalid("personalizations", "needs at least one item") }
        guard batch.personalizations.count <= limit else {
            throw APIError.invalid("personalizations", "\(batch.personalizations.count) items; at most \(limit) (api.max_batch_size)")
        }
        let templates = try Templates(batch.template)
        // Pass 1: render and compose every item; the first problem refuses the whole batch.
        var messages: [SendMessageRequest] = []
        messages.reserveCapacity(batch.personalizations.count)
        for (index, item) in batch.personalizations.enumerated() {
            let field = "personalizations[\(index)]"
            do {
                let message = try templates.render(batch.template, for: item)
                _ = try APISubmission.envelope(of: message)
                _ = try APISubmission.compose(message, messageID: "check@localhost")
                messages.append(message)
            } catch {
                throw APIError(error.status, error.code, "\(field): \(error.message)")
            }
        }
        // Pass 2: each on its own, several at once (each waits on its own Redis round trip);
        // the answer keeps the request's order.
        let submission = self.submission
        let rendered = messages
        @Sendable func item(_ index: Int) -> @Sendable () async -> (Int, Item) {
            let message = rendered[index]
            return {
                do {
                    return (index, Item(accepted: try await submission.submit(message, from: origin)))
                } catch let error as APIError {
                    return (index, Item(error: error.jsonObject))
                } catch {
                    return (index, Item(error: ["code": "internal", "message": "the item could not be submitted"]))
                }
            }
        }
        // The answers are gathered inside the group's body and returned from it: nothing
        // outside the body is written while its tasks run.
        let results = await withTaskGroup(of: (Int, Item).self, returning: [Item?].self) { group in
            var collected = [Item?](repeating: nil, count: rendered.count)
            var next = 0
            while next < min(Self.parallelSubmissions, rendered.count) {
                group.addTask(operation: item(next))
                next += 1
            }
            while let (index, answer) = await group.next() {
                collected[index] = answer
                if next < rendered.count {
                    group.addTask(operation: item(next))
                    next += 1
                }
            }
            return collected
        }
        return Answer(results: results.map { $0! })
    }

    /// The parsed templates of a batch.
    struct Templates {
        var subject: MustacheTemplate?
        var text: MustacheTemplate?
        var html: MustacheTemplate?
        var headers: [(name: String, value: MustacheTemplate)]

        init(_ template: SendMessageRequest) throws(APIError) {
            subject = try Self.parse(template.subject, field: "subject", html: false)
            text = try Self.parse(template.text, field: "text", html: false)
            html = try Self.parse(template.html, field: "html", html: true)
            headers = []
            for header in template.headers {
                headers.append((header.name, try Self.parse(header.value, field: "headers.\(header.name)", html: false)!))
            }
        }

        static func parse(_ text: String?, field: String, html: Bool) throws(APIError) -> MustacheTemplate? {
            guard let text else { return nil }
            do {
                // `TEXT` turns HTML escaping off where the output is not HTML.
                return try MustacheTemplate(string: html ? text : "{{% CONTENT_TYPE: TEXT}}" + text)
            } catch {
                throw APIError.invalid(field, "is not a valid Mustache template: \(error)")
            }
        }

        func render(_ base: SendMessageRequest, for item: BatchRequest.Personalization) throws(APIError) -> SendMessageRequest {
            var message = base
            message.to = item.to
            message.cc = item.cc
            message.bcc = item.bcc
            let variables = item.variables
            message.subject = subject.map { Self.headerValue($0.render(variables)) }
            message.text = text?.render(variables)
            message.html = html?.render(variables)
            var rendered = headers.map { HeaderField(name: $0.name, value: Self.headerValue($0.value.render(variables))) }
            for header in item.headers {
                rendered.removeAll { $0.name.lowercased() == header.name.lowercased() }
                rendered.append(header)
            }
            message.headers = rendered
            message.metadata.merge(item.metadata) { _, new in new }
            try message.checkLabels()
            return message
        }

        /// A header value never spans lines: CR and LF from a variable become spaces.
        static func headerValue(_ text: String) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
        }
    }
}
