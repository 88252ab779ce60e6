/// Signs messages for one domain and selector with one key: RFC 6376 DKIM, relaxed/relaxed.
///
/// ```
/// let signer = try DKIMSigner(domain: "example.com", selector: "hk2025", key: key)
/// let field = try signer.sign(messageBytes, time: Int64(Date().timeIntervalSince1970))
/// // deliver field + message; field is
/// // DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=hk2025;
/// //  t=1767225600; h=From:From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;
/// //  bh=…;
/// //  b=…
/// ```
///
/// The signature covers, relaxed-canonicalized (RFC 6376 §3.4.2, §3.4.4):
///
/// - the body, whole (no `l=`, so nothing can be appended to it, §8.2);
/// - every instance present in the message of each name in ``headers``, taken from the
///   bottom up (§5.4.2), and `From` once more than it appears (over-signing, §8.15), so
///   a second `From` added in transit breaks the signature.
///
/// A signer is an immutable value; one can sign from many threads at once.
public struct DKIMSigner: Sendable {
    /// The fields signed by default: the ones that make up what a reader sees and acts on,
    /// including the one-click unsubscribe pair (RFC 8058 §4 requires both be signed).
    public static let defaultHeaders = [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post", "Sender",
    ]

    /// The signing domain (`d=`), an A-label domain name.
    public let domain: String
    /// The selector (`s=`): the key is published at `<selector>._domainkey.<domain>`.
    public let selector: String
    /// The key, which decides the algorithm (`a=`).
    public let key: DKIMPrivateKey
    /// The header field names signed when present, as given (duplicates removed).
    public let headers: [String]
    /// ``headers`` in lower-case ASCII bytes, for matching.
    private let lowercasedHeaders: [[UInt8]]

    private static let fromName = Array("from".utf8)

    /// Throws ``DKIMError/Code/invalidConfiguration`` if `domain` or `selector` is not a
    /// valid DNS name of letters, digits and hyphens (an IDN must be given as its A-label,
    /// `xn--…`), if a header name is not a valid field name (RFC 5322 §3.6.8), or if
    /// `headers` lacks `From`, which RFC 6376 §5.4 requires be signed.
    public init(domain: String, selector: String, key: DKIMPrivateKey, headers: [String] = DKIMSigner.defaultHeaders) throws {
        try Self.validateName(domain, what: "domain")
        try Self.validateName(selector, what: "selector")
        var seen = Set<[UInt8]>()
        var kept: [String] = []
        var lowercased: [[UInt8]] = []
        for name in headers {
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != ASCII.colon }) else {
                throw DKIMError(
                    .invalidConfiguration, "\"\(name)\" is not a header field name (RFC 5322 §3.6.8: printable ASCII, no colon)")
            }
            let bytes = name.utf8.map(ASCII.lowercased)
            if seen.insert(bytes).inserted {
                kept.append(name)
                lowercased.append(bytes)
            }
        }
        guard seen.contains(Self.fromName) else {
            throw DKIMError(.invalidConfiguration, "the signed header list must include From (RFC 6376 §5.4)")
        }
        self.domain = domain
        self.selector = selector
        self.key = key
        self.headers = kept
        self.lowercasedHeaders = lowercased
    }

    /// Signs `message` and returns the complete `DKIM-Signature: …\r\n` header field, to be
    /// put in front of the message unchanged.
    ///
    /// `message` is the message exactly as it will be sent: header section, an empty line,
    /// body; CRLF line endings; not dot-stuffed. `time` is the signing time (`t=`), in
    /// seconds since the Unix epoch.
    ///
    /// Throws ``DKIMError/Code/noFromHeader`` or ``DKIMError/Code/multipleFromHeaders``
    /// for a message without exactly one `From:`, and ``DKIMError/Code/malformedHeader``
    /// for a header section that does not parse.
    public func sign(_ message: [UInt8], time: Int64) throws -> String {
        try message.withUnsafeBufferPointer { try sign(message: $0, time: time) }
    }

    /// Signs like the `[UInt8]` variant, over borrowed bytes, e.g. a `ByteBuffer`'s
    /// `withUnsafeReadableBytes`, without copying them.
    public func sign(_ message: UnsafeRawBufferPointer, time: Int64) throws -> String {
        try sign(message: message.assumingMemoryBound(to: UInt8.self), time: time)
    }

    /// Signs a message whose body was hashed apart from it, as it streamed by
    /// (``DKIMBodyHasher``): `header` is its header section exactly as it will be sent (the
    /// empty line after it may be included; nothing after that is read).
    public func sign(header: UnsafeRawBufferPointer, bodyHash: DKIMBodyHash, time: Int64) throws -> String {
        let message = header.assumingMemoryBound(to: UInt8.self)
        return try sign(section: try HeaderSection.parse(message), of: message, bodyHash: bodyHash.bytes, time: time)
    }

    private func sign(message: UnsafeBufferPointer<UInt8>, time: Int64) throws -> String {
        let section = try HeaderSection.parse(message)
        let bodyStart = min(section.bodyStart, message.count)
        let bodyHash = try Self.bodyHash(UnsafeBufferPointer(rebasing: message[bodyStart...]))
        return try sign(section: section, of: message, bodyHash: bodyHash, time: time)
    }

    /// The field for a parsed header section and its body's hash.
    private func sign(section: HeaderSection, of message: UnsafeBufferPointer<UInt8>, bodyHash: [UInt8], time: Int64) throws -> String {
        guard time >= 0 else {
            throw DKIMError(.invalidConfiguration, "the signing time \(time) is before the Unix epoch")
        }

        // h=: each configured name once per instance present, From once more (§8.15).
        var signedNames: [String] = []
        var signedLowercasedNames: [[UInt8]] = []
        for (name, lowercased) in zip(headers, lowercasedHeaders) {
            let instances = section.count(of: lowercased, in: message)
            if lowercased == Self.fromName {
                guard instances > 0 else {
                    throw DKIMError(
                        .noFromHeader, "the message has no From: header field; DKIM must sign From (RFC 6376 §5.4), so it cannot be signed")
                }
                guard instances == 1 else {
                    throw DKIMError(
                        .multipleFromHeaders, "the message has \(instances) From: header fields; RFC 5322 §3.6 allows exactly one")
                }
            }
            let times = lowercased == Self.fromName ? instances + 1 : instances
            for _ in 0..<times {
                signedNames.append(name)
                signedLowercasedNames.append(lowercased)
            }
        }

        var field = FoldedFieldWriter(name: "DKIM-Signature")
        field.appendSpaced("v=1;")
        field.appendSpaced("a=\(key.algorithm.rawValue);")
        field.appendSpaced("c=relaxed/relaxed;")
        field.appendSpaced("d=\(domain);")
        field.appendSpaced("s=\(selector);")
        field.appendSpaced("t=\(time);")
        for (index, name) in signedNames.enumerated() {
            let piece = name + (index == signedNames.count - 1 ? ";" : ":")
            if index == 0 {
                field.appendSpaced("h=" + piece)
            } else {
                field.appendJoined(piece)
            }
        }
        field.appendSpaced("bh=\(LibCrypto.base64(bodyHash));")
        // b= always starts its own line, so the text before it is the same whether b= is
        // empty (while hashing) or holds the signature (as sent).
        field.appendSpaced("b=", onNewLine: true)

        let input = try Self.headerHashInput(
            signing: section.fields(signedBy: signedLowercasedNames, in: message), of: message,
            signatureField: Array(field.text.utf8))
        let signature = try key.signature(over: input)
        field.appendBreakable(LibCrypto.base64(signature))
        return field.text + "\r\n"
    }

    /// SHA-256 of the relaxed canonical body (the `bh=` value, RFC 6376 §3.7 step 1),
    /// canonicalized straight into the hash, a few KiB at a time.
    static func bodyHash(_ body: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        let hasher = try DKIMBodyHasher()
        hasher.update(UnsafeRawBufferPointer(body))
        return try hasher.finish().bytes
    }

    /// The data the signature covers (RFC 6376 §3.7 step 2): the signed fields, relaxed,
    /// each with its CRLF, in `h=` order; then the DKIM-Signature field itself, relaxed,
    /// with its `b=` value empty and without a trailing CRLF.
    ///
    /// `signatureField` is that field's text (`DKIM-Signature: …; b=`), folded as sent.
    static func headerHashInput(
        signing fields: [HeaderField], of message: UnsafeBufferPointer<UInt8>, signatureField: [UInt8]
    ) throws -> [UInt8] {
        var input: [UInt8] = []
        input.reserveCapacity(1024)
        for field in fields {
            RelaxedCanonicalization.appendHeaderField(field, of: message, to: &input, terminated: true)
        }
        try signatureField.withUnsafeBufferPointer { text in
            let parsed = try HeaderSection.parse(text)
            guard parsed.fields.count == 1 else {
                throw DKIMError(.cryptoFailure, "internal error: the DKIM-Signature text parsed as \(parsed.fields.count) fields")
            }
            RelaxedCanonicalization.appendHeaderField(parsed.fields[0], of: text, to: &input, terminated: false)
        }
        return input
    }

    /// Domains and selectors are DNS names (RFC 6376 §3.5 d= and s=): dot-separated labels
    /// of 1–63 letters, digits and hyphens, not starting or ending with a hyphen, 253
    /// characters at most.
    private static func validateName(_ name: String, what: String) throws {
        let invalid = { (reason: String) in
            DKIMError(.invalidConfiguration, "the \(what) \"\(name)\" is not a valid DNS name: \(reason)")
        }
        guard !name.isEmpty else { throw invalid("it is empty") }
        guard name.utf8.count <= 253 else { throw invalid("it is longer than 253 characters") }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw invalid("it has an empty label (a leading, trailing or double dot)") }
            guard label.utf8.count <= 63 else { throw invalid("a label is longer than 63 characters") }
            guard
                label.utf8.allSatisfy({ byte in
                    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
                })
            else {
                throw invalid("only letters, digits, hyphens and dots are allowed (give an internationalized name as its xn-- A-label)")
            }
            guard label.first != "-", label.last != "-" else { throw invalid("a label starts or ends with a hyphen") }
        }
    }
}
