import Logging
import NIOCore
import NIOSSL
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

    /// Tries each target address in order; returns the first session that reaches a `250` to EHLO/HELO.
    /// Throws a transient reply describing the last failure when none does.
    /// Where a session comes from and what it requires.
    struct Origin: Sendable {
        /// Local address to bind (the egress IP), nil for the system's choice.
        var localAddress: SocketAddress?
        var heloName: String
        /// The site requires TLS: without it the attempt fails (and is deferred).
        var tlsRequired: Bool
    }

    static func open(targets: [DestinationRouter.Target], origin: Origin, context: DeliveryContext, logger: Logger) async throws(RecipientFailure) -> SMTPDeliverySession {
        var lastProblem = "no mail exchanger addresses"
        var lastReply: SMTPReply?
        var withoutTLS: [String] = []
        for target in targets {
            for address in target.addresses where origin.localAddress == nil || Self.sameFamily(address, origin.localAddress!) {
                do {
                    return try await open(host: target.host, address: address, origin: origin, context: context)
                } catch let error as TLSRequiredError {
                    withoutTLS.append(error.host)
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info("no STARTTLS where the site requires TLS, trying the next address", metadata: ["mx": "\(target.host)", "address": "\(address)"])
                } catch let error as RemoteReplyError {
                    lastReply = error.reply
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info("cannot deliver via this address, trying the next", metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                } catch {
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info("cannot deliver via this address, trying the next", metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                }
            }
        }
        if !withoutTLS.isEmpty && lastProblem.hasSuffix("did not offer it") {
            // Deferred, never sent in clear (RFC 3207 §4: a client may refuse to go on
            // without TLS); the code says why, not "unreachable".
            throw RecipientFailure(reply: "451 4.7.5 TLS is required for this site and its mail exchangers (\(Set(withoutTLS).sorted().joined(separator: ", "))) did not offer STARTTLS")
        }
        throw RecipientFailure(reply: "451 4.4.1 Could not reach any mail exchanger: \(lastProblem)", remoteReply: lastReply)
    }

    static func sameFamily(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): return true
        default: return false
        }
    }

    private static func open(host: String, address: SocketAddress, origin: Origin, context: DeliveryContext) async throws -> SMTPDeliverySession {
        let connection = try await SMTPClientConnection.connect(
            to: address, from: origin.localAddress, group: context.group,
            connectTimeout: .milliseconds(context.settings.connectTimeout.milliseconds),
            commandTimeout: .milliseconds(context.settings.commandTimeout.milliseconds))
        do {
            let greeting = try await connection.readReplies(1)[0]
            guard greeting.code == 220 else { throw RemoteReplyError(reply: greeting) }
            var capabilities = try await hello(connection, name: origin.heloName)
            var isTLS = false
            if capabilities.startTLS, let tls = context.clientTLS {
                let reply = try await connection.send(.startTLS)
                if reply.code == 220 {
                    try await connection.startTLS(serverHostname: SocketAddressCheck.isIPAddress(host) ? nil : host, context: tls)
                    // RFC 3207 §4.2: forget what we knew and greet again over TLS.
                    capabilities = try await hello(connection, name: origin.heloName)
                    isTLS = true
                }
            }
            if origin.tlsRequired && !isTLS {
                _ = try? await connection.send(.quit)
                throw TLSRequiredError(host: host)
            }
            return SMTPDeliverySession(connection: connection, host: host, capabilities: capabilities, isTLS: isTLS)
        } catch {
            await connection.close()
            throw error
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

/// The site requires TLS and the server did not offer it (or the handshake failed).
struct TLSRequiredError: Error, CustomStringConvertible {
    var host: String
    var description: String { "451 4.7.5 TLS is required for this site and \(host) did not offer it" }
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
