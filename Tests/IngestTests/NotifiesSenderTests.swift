import RelayCore
import SMTPProtocol
import Testing

@testable import Ingest

/// Which messages' senders get DSNs (`send_dsns`): never a forged or foreign sender.
@Suite struct NotifiesSenderTests {
    static func account(dsn: Bool = true, domains: [String] = ["acme.example"]) -> Account {
        var account = Account(name: "acme", createdAt: "")
        account.sendDSNs = dsn
        account.sendingDomains = domains
        return account
    }

    static func sender(_ address: String) -> ReversePath {
        let at = address.lastIndex(of: "@")!
        return .mailbox(Mailbox(localPart: String(address[..<at]), domain: String(address[address.index(after: at)...])))
    }

    @Test func onlyTheAccountsOwnDomainsOverSMTPWhenAskedFor() {
        let yes = MessageIntake.notifiesSender(account: Self.account(), sender: Self.sender("app@acme.example"), listener: "relay")
        #expect(yes)
        #expect(MessageIntake.notifiesSender(account: Self.account(), sender: Self.sender("app@mail.ACME.example"), listener: "submission"))
        #expect(!MessageIntake.notifiesSender(account: Self.account(), sender: Self.sender("ceo@bank.example"), listener: "relay"))
        #expect(!MessageIntake.notifiesSender(account: Self.account(), sender: Self.sender("x@evilacme.example"), listener: "relay"))
        #expect(!MessageIntake.notifiesSender(account: Self.account(), sender: .null, listener: "relay"))
        #expect(
            !MessageIntake.notifiesSender(account: Self.account(dsn: false), sender: Self.sender("app@acme.example"), listener: "relay"))
        #expect(
            !MessageIntake.notifiesSender(account: Self.account(domains: []), sender: Self.sender("app@any.example"), listener: "relay"))
        #expect(
            !MessageIntake.notifiesSender(
                account: Self.account(), sender: Self.sender("app@acme.example"), listener: MessageIntake.apiListener))
        #expect(!MessageIntake.notifiesSender(account: nil, sender: Self.sender("app@acme.example"), listener: "relay"))
    }
}
