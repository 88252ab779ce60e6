import Logging
import NIOCore
import NIOSSL
import OutboundTLS
import Queue
import SMTPClient
import SMTPProtocol

/// One SMTP client session to a destination: connect to the first reachable MX address,
/// EHLO, STARTTLS when offered, then any number of mail transactions on the same
/// connection (RFC 5321 §3.3), pipelined when the server offers PIPELINING (RFC 2920).
struct SMTPDeliverySession {
    let connection: SMTPClientConnection
    let host: String
    private(set) var capabilities: SMTPCapabilities
    private(set) var isTLS = false

    var remoteIP: String? { connection.remoteAddress.ipAddress }

    /// Where a session comes from and what it requires.
    struct Origin: Sendable {
        /// Local address to bind (the egress IP), nil for the system's choice.
        var localAddress: SocketAddress?
        var heloName: String
        /// The site requires TLS: without it the attempt fails (and is deferred).
        var tlsRequired: Bool
    }

    /// Tries each target address in order; returns the first session that reaches a `250` to
    /// EHLO/HELO under the TLS each host requires (``TLSRequirement``: the domain's MTA-STS
    /// policy, DANE, the site's `tls_required`). Throws a transient reply describing the last
    /// failure when none does — `4.7.5` when every host failed for a TLS reason.
    static func open(targets: [DestinationRouter.Target], domain: String, origin: Origin, context: DeliveryContext,
                     logger: Logger) async throws(RecipientFailure) -> SMTPDeliverySession {
        var lastProblem = "no mail exchanger addresses"
        var lastReply: SMTPReply?
        var tlsProblems: [String] = []
        var otherProblems = 0
        let policy = targets.first?.isRoute == true ? nil : await context.mtaSTS?.policy(for: domain)
        for target in targets {
            let requirement: TLSRequirement
            switch await Self.requirement(for: target, domain: domain, policy: policy, origin: origin, context: context, logger: logger) {
            case .success(let decided): requirement = decided
            case .failure(let refusal):
                tlsProblems.append(refusal.reason)
                logger.notice("not delivering to this MX: \(refusal.reason)", metadata: ["mx": "\(target.host)"])
                continue
            }
            for address in target.addresses where origin.localAddress == nil || Self.sameFamily(address, origin.localAddress!) {
                do {
                    return try await open(host: target.host, address: address, origin: origin, requirement: requirement, context: context)
                } catch let error as TLSPolicyError {
                    tlsProblems.append(error.reason)
                    logger.notice("TLS policy not met, trying the next address",
                                  metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error.reason)"])
                } catch let error as RemoteReplyError {
                    otherProblems += 1
                    lastReply = error.reply
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info("cannot deliver via this address, trying the next", metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                } catch {
                    otherProblems += 1
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info("cannot deliver via this address, trying the next", metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                }
            }
        }
        let tlsSummary = Array(Set(tlsProblems)).sorted().joined(separator: "; ")
        if !tlsProblems.isEmpty && otherProblems == 0 {
            // Deferred, never sent in clear or to an unauthenticated host (RFC 3207 §4,
            // RFC 8461 §5, RFC 7672 §2.2); the code says why, not "unreachable".
            throw RecipientFailure(reply: "451 4.7.5 \(tlsSummary)")
        }
        let alsoTLS = tlsProblems.isEmpty ? "" : "; \(tlsSummary)"
        throw RecipientFailure(reply: "451 4.4.1 Could not reach any mail exchanger: \(lastProblem)\(alsoTLS)", remoteReply: lastReply)
    }

    /// What `target` must offer: DANE when its MX answer and TLSA records are authenticated,
    /// else the MTA-STS policy, else the site's `tls_required`.
    private static func requirement(for target: DestinationRouter.Target, domain: String, policy: MTASTSPolicy?, origin: Origin,
                                    context: DeliveryContext, logger: Logger) async -> Result<TLSRequirement, TLSRefusal> {
        var dane: DANEMatcher? = nil
        if let resolver = context.dane, target.isAuthenticated, !target.isRoute {
            let name = "_\(context.settings.mxPort)._tcp.\(target.host)"
            do {
                let found = try await resolver.tlsa(name)
                let usable = DANEMatcher.usable(found.records)
                if found.authenticated && !found.records.isEmpty {
                    // RFC 7672 §2.2: secure TLSA records make TLS mandatory even when none is
                    // usable; then only the usable ones can authenticate the server.
                    dane = DANEMatcher(name: name, host: target.host, records: usable)
                    logger.info("DANE applies: TLS mandatory, certificate checked against \(usable.count) usable TLSA record(s)",
                                metadata: ["mx": "\(target.host)", "tlsa": "\(name)"])
                }
            } catch {
                // RFC 7672 §2.2.2: a failed lookup of a secure host's TLSA records is not
                // "no records": the host may be DANE-protected, so it is not used now.
                return .failure(TLSRefusal(reason: "TLSA lookup of \(name) failed: \(error)"))
            }
        }
        let decision = TLSRequirement.decide(host: target.host, domain: domain, policy: policy, dane: dane,
                                             siteRequiresTLS: origin.tlsRequired, verifySiteTLS: context.settings.verifyTLSRequired)
        if let policy, policy.mode == .testing, !policy.matches(host: target.host) {
            // RFC 8461 §5: testing mode delivers anyway and only reports.
            logger.notice("MTA-STS (testing): MX \(target.host) is not listed in the policy of \(domain)", metadata: ["mx": "\(target.host)"])
        }
        return decision
    }

    static func sameFamily(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): return true
        default: return false
        }
    }

    private static func open(host: String, address: SocketAddress, origin: Origin, requirement: TLSRequirement,
                             context: DeliveryContext) async throws -> SMTPDeliverySession {
        let connection = try await SMTPClientConnection.connect(
            to: address, from: origin.localAddress, group: context.group,
            connectTimeout: .milliseconds(context.settings.connectTimeout.milliseconds),
            commandTimeout: .milliseconds(context.settings.commandTimeout.milliseconds))
        do {
            let greeting = try await connection.readReplies(1)[0]
            guard greeting.code == 220 else { throw RemoteReplyError(reply: greeting) }
            var capabilities = try await hello(connection, name: origin.heloName)
            var isTLS = false
            if capabilities.startTLS, let handshake = context.tls.handshake(for: requirement, host: host) {
                let reply = try await connection.send(.startTLS)
                if reply.code == 220 {
                    do {
                        try await connection.startTLS(serverHostname: SocketAddressCheck.isIPAddress(host) ? nil : host,
                                                      context: handshake.context, verify: handshake.verify)
                        // RFC 3207 §4.2: forget what we knew and greet again over TLS.
                        capabilities = try await hello(connection, name: origin.heloName)
                    } catch let error as SMTPClientError {
                        throw error
                    } catch where requirement.isMandatory && !(error is RemoteReplyError) {
                        // The handshake failed: the certificate was refused (or TLS broke).
                        throw TLSPolicyError(reason: "TLS with \(host) failed (\(requirement.reason) requires "
                                             + "\(Self.authentication(requirement))): \(handshake.describe(error))")
                    }
                    isTLS = true
                    if case .reported = requirement, let problem = handshake.problem {
                        context.logger.notice("MTA-STS (testing): the certificate of \(host) would be refused under enforce: \(problem)",
                                              metadata: ["mx": "\(host)"])
                    }
                } else if requirement.isMandatory {
                    throw TLSPolicyError(reason: "\(host) answered STARTTLS with \(reply.singleLineText) (TLS required by \(requirement.reason))")
                }
            }
            if case .reported = requirement, !isTLS {
                context.logger.notice("MTA-STS (testing): \(host) did not offer STARTTLS; enforce would defer", metadata: ["mx": "\(host)"])
            }
            if requirement.isMandatory && !isTLS {
                _ = try? await connection.send(.quit)
                if case .encrypted = requirement { throw TLSPolicyError(reason: "TLS is required for this site and \(host) did not offer it") }
                throw TLSPolicyError(reason: "\(host) did not offer STARTTLS (TLS required by \(requirement.reason))")
            }
            return SMTPDeliverySession(connection: connection, host: host, capabilities: capabilities, isTLS: isTLS)
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func authentication(_ requirement: TLSRequirement) -> String {
        switch requirement {
        case .opportunistic, .encrypted, .reported: return "any certificate"
        case .verified: return "a certificate from a trusted CA naming the MX host"
        case .dane: return "a certificate matching the TLSA records"
        }
    }

    private static func hello(_ connection: SMTPClientConnection, name: String) async throws -> SMTPCapabilities {
        let reply = try await connection.send(.ehlo(name))
        if reply.code == 250 { return SMTPCapabilities(ehloReply: reply) }
        // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
        let helo = try await connection.send(.helo(name))
        guard helo.code == 250 else { throw RemoteReplyError(reply: helo) }
        return SMTPCapabilities(ehloReply: helo)
    }

    /// One mail transaction for some recipients of one message. Returns a result per
    /// recipient; throws only when the connection itself failed.
    func transact(sender: String, recipients: [String], body: ByteBuffer) async throws -> [RecipientResult] {
        let mail = SMTPCommand.mail(Self.reversePath(sender), Self.mailParameters(capabilities, size: body.readableBytes))
        let rcpts = recipients.map { SMTPCommand.rcpt(Self.forwardPath($0), []) }
        var mailReply: SMTPReply
        var rcptReplies: [SMTPReply] = []
        var dataReply: SMTPReply?
        if capabilities.pipelining {
            let replies = try await connection.send([mail] + rcpts + [.data])
            mailReply = replies[0]
            rcptReplies = Array(replies[1...recipients.count])
            dataReply = replies[recipients.count + 1]
        } else {
            mailReply = try await connection.send(mail)
            if mailReply.isPositive {
                for rcpt in rcpts { rcptReplies.append(try await connection.send(rcpt)) }
                if rcptReplies.contains(where: \.isPositive) { dataReply = try await connection.send(.data) }
            }
        }
        func all(_ reply: SMTPReply) -> [RecipientResult] {
            recipients.map { result($0, reply) }
        }
        guard mailReply.isPositive else {
            if dataReply?.code == 354 { _ = try await connection.sendData(ByteBuffer()) }
            _ = try? await connection.send(.rset)
            return all(mailReply)
        }
        var results: [RecipientResult] = []
        var accepted: [String] = []
        for (recipient, reply) in zip(recipients, rcptReplies) {
            if reply.isPositive { accepted.append(recipient) } else { results.append(result(recipient, reply)) }
        }
        guard let dataReply, dataReply.code == 354 else {
            if !accepted.isEmpty {
                // RCPTs were taken but DATA was refused: the refusal applies to them all.
                let refusal = dataReply ?? SMTPReply(code: 451, enhancedStatus: nil, lines: ["DATA not attempted"])
                results += accepted.map { result($0, refusal) }
            }
            _ = try? await connection.send(.rset)
            return results
        }
        if accepted.isEmpty {
            // RFC 2920 §3.1: the server started DATA although no recipient was accepted;
            // send an empty message end so nothing is delivered.
            _ = try await connection.sendData(ByteBuffer())
            return results
        }
        let final = try await connection.sendData(body)
        results += accepted.map { result($0, final) }
        return results
    }

    func quit() async {
        _ = try? await connection.send(.quit)
        await connection.close()
    }

    func close() async {
        await connection.close()
    }

    private func result(_ recipient: String, _ reply: SMTPReply) -> RecipientResult {
        RecipientResult(recipient: recipient, kind: RecipientResult.kind(forCode: reply.code),
                        reply: reply.singleLineText, remoteHost: host, remoteIP: remoteIP, remoteReply: reply)
    }
}

/// The reason every recipient of a batch gets the same outcome (no route, no connection).
struct RecipientFailure: Error {
    var reply: String
    var isPermanent = false
    /// The remote reply behind it, if one (a `421` greeting, say) — for adaptive backoff.
    var remoteReply: SMTPReply? = nil
}

/// A host did not meet the TLS its destination requires (no STARTTLS, a certificate
/// refused): the attempt moves on, and if every host fails this way the recipients are
/// deferred with `4.7.5`.
struct TLSPolicyError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A server answered something that ends the attempt before any transaction.
struct RemoteReplyError: Error, CustomStringConvertible {
    var reply: SMTPReply
    var description: String { reply.singleLineText }
}

extension SMTPReply {
    /// `250 2.0.0 Ok: queued` — the reply as one line for events and logs.
    var singleLineText: String {
        let status = enhancedStatus.map { " \($0)" } ?? ""
        return "\(code)\(status) \(lines.joined(separator: " "))"
    }
}

enum SocketAddressCheck {
    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
