import RelayCore
import ReturnPath
import SMTPProtocol
import Secrets
import Unsubscribe

/// Who an inbound message at the bounce listener is for, decided at `RCPT`. Only these
/// are accepted; every other recipient gets `550 5.1.1` there, so the listener never
/// accepts mail it would have to bounce itself (no backscatter).
public enum InboundRecipient: Sendable, Hashable {
    /// `b-<token>@<return-path domain>` with a token whose MAC verifies: the return path
    /// of one recipient of one message (an asynchronous bounce, or a complaint sent there).
    case returnPath(VERPToken)
    /// `postmaster@…` (RFC 5321 §4.5.1: every SMTP server must accept it).
    case postmaster
    /// `abuse@…` (RFC 2142 §2): complaints sent by hand or by tools.
    case abuse
    /// One of `bounces.fbl_addresses`: where feedback loops (Yahoo CFL, Microsoft JMRP)
    /// send their ARF reports.
    case feedbackLoop
    /// `u-<token>@<campaigns.unsubscribe_mailto_domain>` with a token that verifies: the
    /// mailto form of `List-Unsubscribe` (RFC 2369 §3.2). Whatever the message says, it
    /// unsubscribes the token's recipient from the token's account.
    case unsubscribe(UnsubscribeToken)

    /// Why a recipient is refused (the text of the `550 5.1.1` reply).
    public enum Refusal: Error, Sendable, Hashable {
        /// Not a return path, postmaster, abuse or feedback-loop address.
        case unknownRecipient
        /// Has the form of a return path, but the token does not verify (forged, mangled
        /// or made with a key no longer in the key file).
        case invalidToken
    }

    /// Decides for `mailbox`. `feedbackLoopAddresses` are lower-cased `local@domain`;
    /// `unsubscribe` is there when `campaigns.unsubscribe_mailto_domain` (and the key file) is.
    public static func classify(
        _ mailbox: Mailbox, keyring: SecretKeyring?, feedbackLoopAddresses: Set<String>, unsubscribe: UnsubscribeLinks? = nil,
        nowMilliseconds: Int64 = WallClock.nowMilliseconds()
    ) -> Result<InboundRecipient, Refusal> {
        let local = mailbox.localPart.lowercased()
        let address = local + "@" + mailbox.normalizedDomain
        if feedbackLoopAddresses.contains(address) { return .success(.feedbackLoop) }
        if local == "postmaster" { return .success(.postmaster) }
        if local == "abuse" { return .success(.abuse) }
        if let unsubscribe, let domain = unsubscribe.settings.unsubscribeMailtoDomain,
            mailbox.normalizedDomain == domain.lowercased(), let text = ListUnsubscribe.token(ofLocalPart: mailbox.localPart)
        {
            // Expired, forged or mangled: the same 550 as an unknown address, nothing recorded.
            guard let token = try? unsubscribe.verify(text, nowMilliseconds: nowMilliseconds) else { return .failure(.invalidToken) }
            return .success(.unsubscribe(token))
        }
        guard local.hasPrefix(VERPToken.prefix) else { return .failure(.unknownRecipient) }
        guard let keyring, let token = try? VERPToken.verify(localPart: mailbox.localPart, keyring: keyring) else {
            return .failure(.invalidToken)
        }
        return .success(.returnPath(token))
    }
}

extension SMTPReply {
    /// `550 5.1.1 <address>: no such recipient here` — the same words for an unknown
    /// address and a forged token, so a prober learns nothing from the difference.
    static func noSuchRecipient(_ mailbox: Mailbox) -> SMTPReply {
        SMTPReply(550, "5.1.1", "<\(mailbox)>: no such recipient here")
    }
}
