import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import OutboundTLS
import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The client TLS contexts of a worker, made once at start: opportunistic (no check),
/// verified (chain to the CA bundle and the MX host name) and DANE (the chain check is
/// replaced by the TLSA match of each connection).
struct OutboundTLSContexts: Sendable {
    /// nil when `delivery.tls: disabled`.
    var opportunistic: NIOSSLContext?
    var verified: NIOSSLContext?
    var dane: NIOSSLContext?
    /// The CA bundle the verified context trusts.
    var caFile: String?
    /// The same bundle for checks that only report (MTA-STS `testing`).
    var reportingVerifier: PKIXVerifier?

    init(settings: DeliverySettings) throws {
        guard settings.tls == .opportunistic else { return }
        var plain = TLSConfiguration.makeClientConfiguration()
        plain.certificateVerification = .none
        plain.minimumTLSVersion = .tlsv12
        opportunistic = try NIOSSLContext(configuration: plain)

        var dane = TLSConfiguration.makeClientConfiguration()
        // Peer verification on, so the per-connection callback runs; it alone decides (RFC 7672 §3).
        dane.certificateVerification = .noHostnameVerification
        dane.minimumTLSVersion = .tlsv12
        self.dane = try NIOSSLContext(configuration: dane)

        guard settings.mtaSTS.enabled || settings.verifyTLSRequired else { return }
        let bundle = try Self.findCABundle(configured: settings.caFile)
        var verified = TLSConfiguration.makeClientConfiguration()
        verified.certificateVerification = .fullVerification
        verified.trustRoots = .file(bundle)
        verified.minimumTLSVersion = .tlsv12
        do {
            self.verified = try NIOSSLContext(configuration: verified)
        } catch {
            throw ConfigurationError(key: "delivery.ca_file", problem: "cannot load the CA bundle \(bundle): \(error)")
        }
        caFile = bundle
        reportingVerifier = PKIXVerifier(caFile: bundle)
    }

    /// How to run the handshake a requirement asks for; nil when TLS is disabled (or a
    /// verifying context is missing, which the start-up checks rule out).
    func handshake(for requirement: TLSRequirement, host: String) -> Handshake? {
        switch requirement {
        case .opportunistic, .encrypted:
            return opportunistic.map { Handshake(context: $0, verify: nil, outcome: nil) }
        case .reported:
            guard let dane, let verifier = reportingVerifier else {
                return opportunistic.map { Handshake(context: $0, verify: nil, outcome: nil) }
            }
            let outcome = NIOLockedValueBox<String?>(nil)
            // Every certificate is accepted; what enforce would say is kept for the log.
            return Handshake(
                context: dane,
                verify: { certificates, promise in
                    let chain = certificates.compactMap { try? $0.toDERBytes() }
                    outcome.withLockedValue { $0 = verifier.problem(chain: chain, host: host) }
                    promise.succeed(.certificateVerified)
                }, outcome: outcome)
        case .verified:
            return verified.map { Handshake(context: $0, verify: nil, outcome: nil) }
        case .dane(let matcher):
            guard let dane else { return nil }
            let outcome = NIOLockedValueBox<String?>(nil)
            return Handshake(
                context: dane,
                verify: { certificates, promise in
                    // RFC 7672 §3: records all unusable → TLS mandatory, nothing to authenticate against.
                    guard !matcher.records.isEmpty else { return promise.succeed(.certificateVerified) }
                    let chain = certificates.compactMap { try? $0.toDERBytes() }
                    if let mismatch = matcher.mismatch(chain: chain) {
                        outcome.withLockedValue { $0 = mismatch }
                        promise.succeed(.failed)
                    } else {
                        promise.succeed(.certificateVerified)
                    }
                }, outcome: outcome)
        }
    }

    struct Handshake {
        var context: NIOSSLContext
        var verify: NIOSSLCustomVerificationCallback?
        /// Why the DANE callback refused the certificate, if it did.
        var outcome: NIOLockedValueBox<String?>?

        /// What the reporting callback found wrong with an accepted certificate.
        var problem: String? { outcome?.withLockedValue { $0 } }

        /// The handshake error, or the DANE mismatch behind it.
        func describe(_ error: Error) -> String {
            if let mismatch = outcome?.withLockedValue({ $0 }) { return mismatch }
            return Self.shortDescription(of: error)
        }

        /// BoringSSL's reason (`CERTIFICATE_VERIFY_FAILED` → "certificate verify failed")
        /// rather than its error stack with source paths, for events and logs.
        static func shortDescription(of error: Error) -> String {
            let text = "\(error)"
            guard let range = text.range(of: "OPENSSL_internal:") else { return text }
            let reason = text[range.upperBound...].prefix { $0.isUppercase || $0 == "_" || $0.isNumber }
            return reason.isEmpty ? text : String(reason.lowercased().map { $0 == "_" ? " " : $0 })
        }
    }

    /// The configured bundle, which must exist, or the first system bundle found. A worker
    /// that must verify certificates and has nothing to verify them with refuses to start.
    static func findCABundle(configured: String?) throws -> String {
        if let configured {
            guard access(configured, R_OK) == 0 else {
                throw ConfigurationError(key: "delivery.ca_file", problem: "\(configured) does not exist or is not readable")
            }
            return configured
        }
        if let found = CABundle.systemPaths.first(where: { access($0, R_OK) == 0 }) { return found }
        throw ConfigurationError(
            key: "delivery.ca_file",
            problem: "no CA bundle found (looked for \(CABundle.systemPaths.joined(separator: ", "))); certificates must be verified "
                + "for MTA-STS and tls_required sites: install ca-certificates, set delivery.ca_file, or turn off both "
                + "delivery.mta_sts.enabled and delivery.verify_tls_required")
    }
}
