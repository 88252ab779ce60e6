import NIOCore

extension DNSResolver {
    /// The port of SMTP relay between MTAs (RFC 5321 §4.5.4.2).
    public static let smtpPort = 25

    /// The hosts to try for mail to `domain`, in order (RFC 5321 §5.1).
    ///
    /// MX records are sorted by preference, equal preferences in random order, and each
    /// host is resolved to its addresses (port 25). With no MX records the domain's own
    /// A/AAAA records are an implicit MX of preference 0 (`isImplicit`). MX hosts that do
    /// not resolve are skipped.
    ///
    /// ```
    /// C: example.com. IN MX      S: 10 mx1.example.com., 20 mx2.example.com.
    /// C: mx1.example.com. IN A   S: 192.0.2.1            (A and AAAA of each host at once)
    /// ```
    ///
    /// - Throws: ``DNSError`` — ``DNSError/Code/nullMX`` for a null MX (RFC 7505);
    ///   ``DNSError/Code/nameDoesNotExist`` for NXDOMAIN; ``DNSError/Code/noData`` when
    ///   there is neither MX nor address; ``DNSError/Code/noExchangerAddresses`` when no MX
    ///   host resolves, or the temporary error met if any failure was temporary.
    public func mailExchangers(for domain: String) async throws -> [MailExchanger] {
        var generator = SystemRandomNumberGenerator()
        return try await self.mailExchangers(for: domain, using: &generator)
    }

    func mailExchangers<R: RandomNumberGenerator>(
        for domain: String,
        using generator: inout R
    ) async throws -> [MailExchanger] {
        let name = try DNSName(domain)
        let (records, mxAuthenticated) = try await self.mxAnswer(domain)
        if records.isEmpty {
            let (addresses, authenticated) = try await self.authenticatedAddresses(of: name, port: Self.smtpPort)
            guard !addresses.isEmpty else { throw DNSError.noData(name, "MX, A or AAAA") }
            return [
                MailExchanger(
                    host: name.description, preference: 0, addresses: addresses, isImplicit: true,
                    isAuthenticated: mxAuthenticated && authenticated)
            ]
        }
        // RFC 7505 §3: a single MX of "." means the domain accepts no mail. A "." among
        // other MX records is a misconfiguration; it cannot be delivered to, so drop it.
        let usable = records.filter { !$0.isNullMX }
        if usable.isEmpty {
            throw DNSError(.nullMX, "\(name) publishes a null MX and accepts no mail (RFC 7505)")
        }
        let ordered = MXOrdering.order(usable, using: &generator)
        let resolved = await withTaskGroup(of: (Int, Result<([SocketAddress], Bool), Error>).self) { group in
            for (index, record) in ordered.enumerated() {
                group.addTask {
                    do {
                        let host = try DNSName(record.exchange)
                        let found = try await self.authenticatedAddresses(of: host, port: Self.smtpPort)
                        return (index, .success((found.addresses, found.authenticated)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results = [Result<([SocketAddress], Bool), Error>?](repeating: nil, count: ordered.count)
            for await (index, result) in group {
                results[index] = result
            }
            return results.map { $0! }
        }
        var exchangers: [MailExchanger] = []
        var temporary: Error? = nil
        for (record, result) in zip(ordered, resolved) {
            switch result {
            case .success(let (addresses, authenticated)) where !addresses.isEmpty:
                exchangers.append(
                    MailExchanger(
                        host: record.exchange, preference: record.preference, addresses: addresses, isImplicit: false,
                        isAuthenticated: mxAuthenticated && authenticated)
                )
            case .success:
                continue
            case .failure(let error):
                if let error = error as? DNSError, error.isPermanent { continue }
                temporary = temporary ?? error
            }
        }
        if exchangers.isEmpty {
            if let temporary { throw temporary }
            throw DNSError(.noExchangerAddresses, "none of the MX hosts of \(name) has an address")
        }
        return exchangers
    }
}
