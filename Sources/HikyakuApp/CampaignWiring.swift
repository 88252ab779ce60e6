import CampaignRunner
import RelayCore
import Secrets
import Unsubscribe

extension HikyakuApplication {
    /// Whether campaign mail can carry one-click unsubscribe links: a public base URL and a
    /// key file to sign the tokens with.
    static func unsubscribeReady(_ configuration: HikyakuConfiguration) -> Bool {
        configuration.campaigns.unsubscribeBaseURL != nil && configuration.secrets.keyFile != nil
    }

    /// The List-Unsubscribe fields of campaign mail (RFC 2369, RFC 8058), signed with the key
    /// file's newest key (a key added to the file is used without a restart); nil without
    /// `campaigns.unsubscribe_base_url` or a key file.
    static func unsubscribeHeaders(_ configuration: HikyakuConfiguration, keyring: KeyringFile?) -> CampaignRunner.UnsubscribeHeaders? {
        guard let keyring, configuration.campaigns.unsubscribeBaseURL != nil else { return nil }
        let settings = configuration.campaigns
        return { account, recipient, campaign in
            let signer = UnsubscribeSigner(keyring: keyring.current, validity: settings.unsubscribeTokenValidity)
            return ListUnsubscribe(settings: settings, signer: signer).headers(
                for: UnsubscribeToken(
                    account: account, recipient: recipient, campaign: campaign, nowMilliseconds: WallClock.nowMilliseconds()))
        }
    }
}
