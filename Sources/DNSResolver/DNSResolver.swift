import Logging
import NIOCore

/// An asynchronous stub resolver (RFC 1034 §5.3.1) for mail delivery: it asks the
/// configured recursive servers over UDP, retries over TCP when a reply is truncated,
/// follows CNAMEs within a response, and caches answers for their TTL.
///
/// It never blocks an event loop and uses neither libc's resolver nor c-ares.
///
/// ```
/// C: id=0x8f3a RD  example.com. IN MX              (UDP, EDNS(0) payload 1232)
/// S: id=0x8f3a QR RD RA NOERROR
///    example.com. 300 IN MX 10 mx1.example.com.
///    example.com. 300 IN MX 20 mx2.example.com.
/// ```
public final class DNSResolver: Sendable {
    private let configuration: DNSResolverConfiguration
    private let logger: Logger
    private let state: DNSResolverState
    private let transport: DNSTransport

    /// - Parameters:
    ///   - configuration: servers, timeout, attempts and caching.
    ///   - eventLoopGroup: where the sockets run; the resolver does not own it.
    ///   - logger: queries are logged at `trace`, failures at `debug`.
    public init(configuration: DNSResolverConfiguration, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.state = DNSResolverState(cacheCapacity: configuration.cacheCapacity)
        self.transport = DNSTransport(group: eventLoopGroup, state: self.state)
    }

    /// The MX records of `domain` (RFC 1035 §3.3.9), sorted by preference then name;
    /// empty when the domain exists but has none. A null MX is returned as the record
    /// `0 .`.
    ///
    /// - Throws: ``DNSError`` — ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN,
    ///   ``DNSError/Code/invalidName``, or a temporary failure.
    public func mx(_ domain: String) async throws -> [MXRecord] {
        try await self.mxAnswer(domain).records
    }

    /// ``mx(_:)`` and whether the answer was authenticated (AD).
    func mxAnswer(_ domain: String) async throws -> (records: [MXRecord], authenticated: Bool) {
        let name = try DNSName(domain)
        let answer = try await self.answer(DNSQuestion(name: name, type: .mx))
        switch answer.result {
        case .nameError:
            throw DNSError.nameDoesNotExist(name)
        case .noData:
            return ([], answer.isAuthenticated)
        case .records(let records, _):
            let mx = records.compactMap { record -> MXRecord? in
                guard case .mx(let preference, let exchange) = record.data else { return nil }
                return MXRecord(preference: preference, exchange: exchange.description)
            }.sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
            return (mx, answer.isAuthenticated)
        }
    }

    /// The IPv4 (A) then IPv6 (AAAA) addresses of `host`, queried concurrently, with port 0.
    /// Empty only when the host exists with neither type. If one query fails temporarily
    /// but the other yields addresses, those are returned.
    ///
    /// - Throws: ``DNSError`` — ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN,
    ///   ``DNSError/Code/invalidName``, or a temporary failure.
    public func addresses(_ host: String) async throws -> [SocketAddress] {
        try await self.addresses(of: try DNSName(host), port: 0)
    }

    /// Ends every query in flight with ``DNSError/Code/shutDown`` and makes later queries
    /// fail the same way. The event loop group stays the caller's to shut down.
    public func shutdown() async {
        await self.state.shutdown()
    }

    func addresses(of name: DNSName, port: Int) async throws -> [SocketAddress] {
        try await self.authenticatedAddresses(of: name, port: port).addresses
    }

    /// The addresses, and whether both the A and the AAAA answer were authenticated (AD).
    func authenticatedAddresses(of name: DNSName, port: Int) async throws -> (addresses: [SocketAddress], authenticated: Bool) {
        async let v4 = self.capture { try await self.answer(DNSQuestion(name: name, type: .a)) }
        async let v6 = self.capture { try await self.answer(DNSQuestion(name: name, type: .aaaa)) }
        let answers = await [v4, v6]
        let authenticated = answers.allSatisfy { (try? $0.get().isAuthenticated) == true }
        let results = answers.map { $0.map(\.result) }
        var addresses: [SocketAddress] = []
        for case .success(.records(let records, _)) in results {
            for record in records {
                switch record.data {
                case .a(let bytes), .aaaa(let bytes):
                    addresses.append(try Self.socketAddress(bytes, port: port))
                default:
                    continue
                }
            }
        }
        if !addresses.isEmpty {
            for case .failure(let error) in results {
                self.logger.debug("address lookup partly failed", metadata: ["name": "\(name)", "error": "\(error)"])
            }
            return (addresses, authenticated)
        }
        for case .success(.nameError) in results {
            throw DNSError.nameDoesNotExist(name)
        }
        for case .failure(let error) in results {
            throw error
        }
        return ([], authenticated)
    }

    /// Answers `question` from the cache or the servers: each server in turn, each up to
    /// `attempts` times; SERVFAIL or REFUSED moves on to the next server at once.
    func lookup(_ question: DNSQuestion) async throws -> DNSLookupResult {
        try await self.answer(question).result
    }

    /// ``lookup(_:)`` with the AD bit of the response (false unless
    /// ``DNSResolverConfiguration/requestDNSSEC`` is set).
    func answer(_ question: DNSQuestion) async throws -> DNSAnswer {
        if self.configuration.cacheEnabled, let cached = await self.state.cached(question) {
            self.logger.trace("DNS cache hit", metadata: ["question": "\(question)"])
            return cached
        }
        var lastError = DNSError(.timeout, "no DNS servers configured")
        for server in self.configuration.servers {
            attempts: for attempt in 1...max(1, self.configuration.attempts) {
                self.logger.trace(
                    "DNS query",
                    metadata: ["question": "\(question)", "server": "\(server)", "attempt": "\(attempt)"]
                )
                do {
                    let response = try await self.ask(question, server: server)
                    let answer = DNSAnswer(
                        result: try DNSLookupResult(response: response, question: question),
                        isAuthenticated: self.configuration.requestDNSSEC && response.header.isAuthenticData)
                    if self.configuration.cacheEnabled {
                        await self.state.store(answer, for: question)
                    }
                    return answer
                } catch let error as DNSError {
                    self.logger.debug(
                        "DNS query failed",
                        metadata: ["question": "\(question)", "server": "\(server)", "error": "\(error)"]
                    )
                    lastError = error
                    switch error.code {
                    case .shutDown:
                        throw error
                    case .serverFailure:
                        break attempts
                    default:
                        continue attempts
                    }
                }
            }
        }
        throw lastError
    }

    /// One exchange with one server: UDP with EDNS(0); without EDNS if the server answers
    /// FORMERR (RFC 6891 §7); then TCP if the reply is truncated (RFC 7766 §5).
    private func ask(_ question: DNSQuestion, server: SocketAddress) async throws -> DNSMessage {
        let timeout = self.configuration.timeout
        let dnssec = self.configuration.requestDNSSEC
        var query = DNSMessage.query(question, dnssec: dnssec)
        var response = try await self.transport.udp(query, to: server, timeout: timeout)
        if response.header.responseCode == .formatError {
            self.logger.trace("DNS server rejected EDNS, retrying without", metadata: ["question": "\(question)"])
            query = DNSMessage.query(question, ednsUDPPayloadSize: nil, dnssec: dnssec)
            response = try await self.transport.udp(query, to: server, timeout: timeout)
        }
        if response.header.isTruncated {
            self.logger.trace("DNS reply truncated, retrying over TCP", metadata: ["question": "\(question)"])
            response = try await self.transport.tcp(query, to: server, timeout: timeout)
        }
        return response
    }

    private func capture(_ body: () async throws -> DNSAnswer) async -> Result<DNSAnswer, Error> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    private static func socketAddress(_ bytes: [UInt8], port: Int) throws -> SocketAddress {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return try SocketAddress(packedIPAddress: buffer, port: port)
    }
}
