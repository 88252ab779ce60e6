import RelayCore
import Secrets

/// One-click unsubscribe as a running role sees it: the `campaigns:` settings and the key
/// file: new links are signed with the newest key this process loaded, and links of every
/// key in the file verify (rotation keeps old links working while their key stays).
/// Present only when both `campaigns.unsubscribe_base_url` and `secrets.key_file` are set.
public struct UnsubscribeLinks: Sendable {
    public let settings: CampaignSettings
    let keyringFile: KeyringFile

    public init?(settings: CampaignSettings, keyringFile: KeyringFile?) {
        guard settings.unsubscribeBaseURL != nil, let keyringFile else { return nil }
        self.settings = settings
        self.keyringFile = keyringFile
    }

    public var signer: UnsubscribeSigner {
        UnsubscribeSigner(keyring: keyringFile.current, validity: settings.unsubscribeTokenValidity)
    }

    public var list: ListUnsubscribe { ListUnsubscribe(settings: settings, signer: signer) }

    /// `UnsubscribeSigner.verify` with the keys as they are now; a token naming a key not
    /// loaded here (rotated on another node first) reads the key file again, at most once a minute.
    public func verify(_ text: String, nowMilliseconds: Int64) throws(UnsubscribeError) -> UnsubscribeToken {
        do {
            return try signer.verify(text, nowMilliseconds: nowMilliseconds)
        } catch  where error == .unknownKey {
            guard let fresh = keyringFile.reload(now: nowMilliseconds) else { throw error }
            return try UnsubscribeSigner(keyring: fresh, validity: settings.unsubscribeTokenValidity).verify(
                text, nowMilliseconds: nowMilliseconds)
        }
    }
}
