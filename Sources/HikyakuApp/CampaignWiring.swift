import CampaignRunner
import Logging
import RelayCore
import Secrets
import Unsubscribe

extension HikyakuApplication {
    /// Whether campaign mail can carry one-click unsubscribe links: a public base URL and a
    /// key file to sign the tokens with.
    static func unsubscribeReady(_ configuration: HikyakuConfiguration) -> Bool {
        configuration.campaigns.unsubscribeBaseURL != nil && configuration.secrets.keyFile != nil
    }

    /// The List-Unsubscribe fields of campaign mail (RFC 2369, RFC 8058) for the runner,
    /// signed as ``UnsubscribeLinks`` signs every link (the key file's newest key); nil
    /// without `campaigns.unsubscribe_base_url` or a key file.
    static func unsubscribeHeaders(
        _ configuration: HikyakuConfiguration, keyring: KeyringFile?, logger: Logger
    )
        -> CampaignRunner.UnsubscribeHeaders?
    {
        guard let links = unsubscribeLinks(configuration, keyring: keyring, logger: logger) else { return nil }
        return { account, recipient, campaign in
            links.list.headers(
                for: UnsubscribeToken(
                    account: account, recipient: recipient, campaign: campaign, nowMilliseconds: WallClock.nowMilliseconds()))
        }
    }
}
