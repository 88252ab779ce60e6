import Logging
import NIOCore
import OutboundTLS
import RelayCore
import SMTPClient
import SMTPProtocol

extension SMTPDeliverySession {
    /// Tries each target address in order; returns the first session that reaches a `250` to
    /// EHLO/HELO under the TLS each host requires (``TLSRequirement``: the domain's MTA-STS
    /// policy, DANE, the site's `tls_required`). Throws a transient reply describing the last
    /// failure when none does — `4.7.5` when every host failed for a TLS reason.
    static func open(
        targets: [DestinationRouter.Target], domain: DomainName, origin: Origin, context: DeliveryContext,
        logger: Logger
    ) async throws(RecipientFailure) -> SMTPDeliverySession {
        var lastProblem = "no mail exchanger addresses"
        var lastReply: SMTPReply?
        var tlsProblems: [TLSPolicyFailure] = []
        var otherProblems = 0
        let policy = targets.first?.isRoute == true ? nil : await context.mtaSTS?.policy(for: domain.rawValue)
        for target in targets {
            let requirement: TLSRequirement
            switch await Self.requirement(for: target, domain: domain, policy: policy, origin: origin, context: context, logger: logger) {
            case .success(let decided): requirement = decided
            case .failure(let refusal):
                tlsProblems.append(.refused(refusal))
                logger.notice("not delivering to this MX: \(refusal.reason)", metadata: ["mx": "\(target.host)"])
                continue
            }
            for address in target.addresses where origin.localAddress == nil || Self.sameFamily(address, origin.localAddress!) {
                do {
                    return try await open(host: target.host, address: address, origin: origin, requirement: requirement, context: context)
                } catch let failure as TLSPolicyFailure {
                    tlsProblems.append(failure)
                    logger.notice(
                        "TLS policy not met, trying the next address",
                        metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(failure)"])
                } catch let error as SMTPSessionFailure {
                    otherProblems += 1
                    if case .refused(let reply) = error { lastReply = reply }
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info(
                        "cannot deliver via this address, trying the next",
                        metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                } catch {
                    otherProblems += 1
                    lastProblem = "\(target.host) [\(address.ipAddress ?? "?")]: \(error)"
                    logger.info(
                        "cannot deliver via this address, trying the next",
                        metadata: ["mx": "\(target.host)", "address": "\(address)", "reason": "\(error)"])
                }
            }
        }
        let tlsSummary = Array(Set(tlsProblems.map(\.description))).sorted().joined(separator: "; ")
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
    private static func requirement(
        for target: DestinationRouter.Target, domain: DomainName, policy: MTASTSPolicy?, origin: Origin,
        context: DeliveryContext, logger: Logger
    ) async -> Result<TLSRequirement, TLSRefusal> {
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
                    logger.info(
                        "DANE applies: TLS mandatory, certificate checked against \(usable.count) usable TLSA record(s)",
                        metadata: ["mx": "\(target.host)", "tlsa": "\(name)"])
                }
            } catch {
                // RFC 7672 §2.2.2: a failed lookup of a secure host's TLSA records is not
                // "no records": the host may be DANE-protected, so it is not used now.
                return .failure(TLSRefusal(reason: "TLSA lookup of \(name) failed: \(error)"))
            }
        }
        let decision = TLSRequirement.decide(
            host: target.host, domain: domain.rawValue, policy: policy, dane: dane,
            siteRequiresTLS: origin.tlsRequired, verifySiteTLS: context.settings.verifyTLSRequired)
        if let policy, policy.mode == .testing, !policy.matches(host: target.host) {
            // RFC 8461 §5: testing mode delivers anyway and only reports.
            logger.notice(
                "MTA-STS (testing): MX \(target.host) is not listed in the policy of \(domain)", metadata: ["mx": "\(target.host)"])
        }
        return decision
    }

    static func sameFamily(_ a: SocketAddress, _ b: SocketAddress) -> Bool {
        switch (a, b) {
        case (.v4, .v4), (.v6, .v6): return true
        default: return false
        }
    }

    /// Connects and drives the opening (greeting, EHLO/HELO, STARTTLS, EHLO again) to a
    /// session ready for mail, under `requirement`.
    private static func open(
        host: String, address: SocketAddress, origin: Origin, requirement: TLSRequirement,
        context: DeliveryContext
    ) async throws -> SMTPDeliverySession {
        let connection = try await SMTPClientConnection.connect(
            to: address, from: origin.localAddress, group: context.group,
            connectTimeout: .milliseconds(context.settings.connectTimeout.milliseconds),
            commandTimeout: .milliseconds(context.settings.commandTimeout.milliseconds))
        let handshake = context.tls.handshake(for: requirement, host: host)
        var machine = SMTPClientStateMachine(
            configuration: .init(
                heloName: origin.heloName, attemptStartTLS: handshake != nil,
                requireTLS: requirement.isMandatory))
        do {
            var action = SMTPClientAction.awaitReply
            while true {
                // Read before the step: a failed step closes the machine.
                let negotiatingTLS = machine.isNegotiatingTLS
                do {
                    switch action {
                    case .ready:
                        if case .reported = requirement {
                            if !machine.isTLS {
                                context.logger.notice(
                                    "MTA-STS (testing): \(host) did not offer STARTTLS; enforce would defer", metadata: ["mx": "\(host)"])
                            } else if let problem = handshake?.problem {
                                context.logger.notice(
                                    "MTA-STS (testing): the certificate of \(host) would be refused under enforce: \(problem)",
                                    metadata: ["mx": "\(host)"])
                            }
                        }
                        return SMTPDeliverySession(connection: connection, host: host, machine: machine)
                    case .startTLS:
                        guard let handshake else { preconditionFailure("STARTTLS sent without a TLS context") }
                        try await connection.startTLS(
                            serverHostname: SocketAddressCheck.isIPAddress(host) ? nil : host,
                            context: handshake.context, verify: handshake.verify)
                        // RFC 3207 §4.2: the machine forgets what it knew and greets again over TLS.
                        action = machine.tlsEstablished()
                    case .fail(let failure, let quit):
                        if quit { _ = try? await connection.send(.quit) }
                        switch failure {
                        case .startTLSNotOffered: throw TLSPolicyFailure.startTLSNotOffered(host: host, requirement: requirement)
                        case .startTLSRefused(let reply):
                            throw TLSPolicyFailure.startTLSRefused(host: host, reply: reply, requirement: requirement)
                        default: throw failure
                        }
                    default:
                        action = try await connection.perform(action, on: &machine)
                    }
                } catch let error
                    where negotiatingTLS && requirement.isMandatory
                    && !(error is SMTPClientError) && !(error is SMTPSessionFailure)
                {
                    // The handshake failed (the certificate was refused, or TLS broke); it
                    // can show up only at the EHLO over TLS.
                    let detail = handshake.map { $0.describe(error) } ?? "\(error)"
                    throw TLSPolicyFailure.handshakeFailed(host: host, requirement: requirement, detail: detail)
                }
            }
        } catch {
            await connection.close()
            throw error
        }
    }
}
