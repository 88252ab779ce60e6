import ArgumentParser
import Foundation
import HikyakuApp
import RelayCore

/// `hikyaku account …`: tenants, kept in Redis so every ingest node sees them within
/// `accounts.refresh_interval`.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Manage accounts (tenants): SMTP logins, source networks, sending domains, quotas, pauses.",
        discussion: """
            An account sends mail either by SMTP AUTH (user name = account name) on a listener \
            with TLS, or without AUTH from one of its networks on a relay listener. It sends only \
            from its sending domains (envelope sender and From: header, subdomains included) \
            unless created with --any-sender; its mail leaves from its egress pool; its \
            recipients per clock hour and UTC day are capped by its quotas. An account whose \
            hard-bounce rate goes over accounts.bounce_rate_threshold is paused automatically.

            Examples:
              hikyaku account add acme --generate-password --domain acme.example --hourly-quota 10000
              hikyaku account add billing --network 10.1.2.0/24 --domain billing.acme.example
              echo 'new secret' | hikyaku account set acme --password-stdin
              hikyaku account show acme
              hikyaku account resume acme
            """,
        subcommands: [Add.self, List.self, Show.self, Set.self, Delete.self, Pause.self, Resume.self, APIKey.self, ConsoleUserCommand.self])

    /// Options that describe an account, shared by `add` and `set`.
    struct Properties: ParsableArguments {
        @Flag(help: "Read the SMTP password from standard input (one line).")
        var passwordStdin = false

        @Flag(help: "Generate a random SMTP password and print it (once).")
        var generatePassword = false

        @Option(
            name: .customLong("network"),
            help: ArgumentHelp("A source network (CIDR) that relays as this account without AUTH; repeatable.", valueName: "cidr"))
        var networks: [String] = []

        @Option(name: .customLong("domain"), help: ArgumentHelp("A sending domain; repeatable.", valueName: "domain"))
        var domains: [String] = []

        @Option(help: ArgumentHelp("Egress pool (delivery.egress[].pool).", valueName: "pool"))
        var pool: String?

        @Option(help: ArgumentHelp("Most recipients per clock hour ('none' to remove).", valueName: "n"))
        var hourlyQuota: String?

        @Option(help: ArgumentHelp("Most recipients per UTC day ('none' to remove).", valueName: "n"))
        var dailyQuota: String?

        @Option(help: ArgumentHelp("Largest message, e.g. 10M ('none': the listener's).", valueName: "size"))
        var maxMessageSize: String?

        @Option(help: ArgumentHelp("Most recipients per message ('none': the listener's).", valueName: "n"))
        var maxRecipients: String?

        @Option(
            help: ArgumentHelp(
                "VERP return-path domain: mail is sent with MAIL FROM:<b-TOKEN@DOMAIN>, one recipient per transaction (README, \"Bounces\").",
                valueName: "domain"))
        var returnPathDomain: String?

        @Flag(
            name: .customLong("send-dsns"),
            help:
                "Send the original envelope sender of this account's SMTP mail an RFC 3464 bounce (DSN) when a recipient bounces or expires."
        )
        var sendDSNs = false

        @Flag(name: .customLong("no-send-dsns"), help: "Stop sending DSNs to the envelope sender (the default).")
        var noSendDSNs = false

        @Flag(help: "Send with the original envelope sender again (no VERP).")
        var noReturnPathDomain = false

        func validate() throws {
            if passwordStdin && generatePassword {
                throw ValidationError("give either --password-stdin or --generate-password, not both")
            }
            if returnPathDomain != nil && noReturnPathDomain {
                throw ValidationError("give either --return-path-domain or --no-return-path-domain, not both")
            }
            if sendDSNs && noSendDSNs {
                throw ValidationError("give either --send-dsns or --no-send-dsns, not both")
            }
        }

        /// Applies the options to `account`; returns a generated password to print.
        func apply(to account: inout Account, removingNetworks: [String] = [], removingDomains: [String] = []) throws -> String? {
            var generated: String? = nil
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("no password on standard input (try: echo 'secret' | hikyaku account … --password-stdin)")
                }
                account.passwordHash = try Self.hash(line)
            } else if generatePassword {
                let password = AccountPassword.random()
                account.passwordHash = try Self.hash(password)
                generated = password
            }
            for text in removingNetworks {
                guard let network = IPNetwork(parsing: text) else {
                    throw ValidationError("--remove-network '\(text)' is not a CIDR network")
                }
                account.allowedNetworks.removeAll { $0 == network }
            }
            for text in networks {
                guard let network = IPNetwork(parsing: text) else {
                    throw ValidationError("--network '\(text)' is not a network (e.g. 192.0.2.0/24, 2001:db8::/48 or one address)")
                }
                if !account.allowedNetworks.contains(network) { account.allowedNetworks.append(network) }
            }
            for text in removingDomains {
                let domain = Account.normalizedDomain(text)
                account.sendingDomains.removeAll { $0 == domain }
            }
            for text in domains {
                let domain: String
                do { domain = try Account.validate(domain: text) } catch { throw ValidationError("--domain: \(error.problem)") }
                if !account.sendingDomains.contains(domain) { account.sendingDomains.append(domain) }
            }
            if let pool {
                do { account.pool = try PoolName.validate(pool, key: "--pool") } catch { throw ValidationError("\(error)") }
            }
            if let hourlyQuota { account.hourlyQuota = try Self.count(hourlyQuota, option: "--hourly-quota") }
            if let dailyQuota { account.dailyQuota = try Self.count(dailyQuota, option: "--daily-quota") }
            if let maxRecipients { account.maxRecipients = try Self.count(maxRecipients, option: "--max-recipients") }
            if let returnPathDomain {
                do { account.returnPathDomain = try Account.validate(domain: returnPathDomain) } catch {
                    throw ValidationError("--return-path-domain: \(error.problem)")
                }
            }
            if noReturnPathDomain { account.returnPathDomain = nil }
            if sendDSNs { account.sendDSNs = true }
            if noSendDSNs { account.sendDSNs = false }
            if let maxMessageSize {
                if maxMessageSize == "none" {
                    account.maxMessageSize = nil
                } else {
                    guard let size = ByteSize(parsing: maxMessageSize), size.bytes > 0 else {
                        throw ValidationError("--max-message-size '\(maxMessageSize)' is not a size (e.g. 10M, 512K)")
                    }
                    account.maxMessageSize = size.bytes
                }
            }
            return generated
        }

        static func count(_ text: String, option: String) throws -> Int? {
            if text == "none" { return nil }
            guard let value = Int(text), value >= 0 else { throw ValidationError("\(option) '\(text)' is not a count (or 'none')") }
            return value
        }

        static func hash(_ password: String) throws -> String {
            guard let hash = AccountPassword.hash(password) else {
                throw ValidationError("could not hash the password (libxcrypt without yescrypt?)")
            }
            return hash
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")

        @OptionGroup var admin: AdminOptions
        @Argument(help: "Account name (also the SMTP AUTH user name): letters, digits, '.', '_', '-'.")
        var name: String
        @OptionGroup var properties: Properties
        @Flag(help: "Let the account send as any sender domain (no sending-domain check).")
        var anySender = false

        func validate() throws {
            do { try Account.validate(name: name) } catch { throw ValidationError(error.problem) }
        }

        func run() async throws {
            var account = Account(name: name, createdAt: WallClock.iso8601(milliseconds: WallClock.nowMilliseconds()))
            account.restrictSenders = !anySender
            let password = try properties.apply(to: &account)
            let apiOnly = account.passwordHash == nil && account.allowedNetworks.isEmpty
            if account.restrictSenders && account.sendingDomains.isEmpty {
                throw ValidationError("the account could send from no domain: give --domain (repeatable), or --any-sender")
            }
            try await admin.withSession { try await $0.createAccount(account) }
            print("created account \(name)")
            AccountCommand.describe(account)
            if let password {
                print("SMTP password (shown once, store it now): \(password)")
            }
            if apiOnly {
                print("no SMTP login or network: it sends through the HTTP API only (hikyaku account api-key create \(name))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let accounts = try await admin.withSession { try await $0.allAccounts() }
            guard !accounts.isEmpty else {
                print("no accounts (create one with `hikyaku account add`)")
                return
            }
            var table = TextTable([
                ("account", .left), ("login", .left), ("networks", .left), ("pool", .left),
                ("domains", .left), ("hourly", .right), ("daily", .right), ("state", .left),
            ])
            for account in accounts {
                table.add([
                    account.name, account.passwordHash == nil ? "-" : "password",
                    account.allowedNetworks.isEmpty ? "-" : account.allowedNetworks.map(\.description).joined(separator: ","),
                    account.pool.rawValue, account.restrictSenders ? account.sendingDomains.joined(separator: ",") : "(any)",
                    account.hourlyQuota.map(String.init) ?? "-", account.dailyQuota.map(String.init) ?? "-",
                    account.paused == nil ? "active" : "PAUSED",
                ])
            }
            print(table.render(indent: 0))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an account, its quota use and bounce rate.")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Flag(help: "Print the account as JSON (without its password hash).")
        var json = false

        func run() async throws {
            guard let usage = try await admin.withSession({ try await $0.accountUsage(named: name) }) else {
                throw OperatorError("no account \(name)")
            }
            let account = usage.account
            if json {
                var shown = account
                shown.passwordHash = shown.passwordHash == nil ? nil : "(set)"
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: RemoteText.escapingC1(json: try encoder.encode(shown)), as: UTF8.self))
                return
            }
            AccountCommand.describe(account)
            print("  used this hour   \(usage.recipientsThisHour)\(account.hourlyQuota.map { " of \($0)" } ?? "")")
            print("  used today       \(usage.recipientsToday)\(account.dailyQuota.map { " of \($0)" } ?? "")")
            let total = usage.delivered + usage.bounced
            let rate = total == 0 ? "-" : String(format: "%.1f%%", Double(usage.bounced) * 100 / Double(total))
            print("  hard bounces     \(usage.bounced) of \(total) final outcomes in the bounce window (\(rate))")
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an account.",
            discussion:
                "Options not given are left as they are. Example: hikyaku account set acme --domain news.acme.example --daily-quota 200000")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @OptionGroup var properties: Properties
        @Option(name: .customLong("remove-network"), help: ArgumentHelp("Remove a source network; repeatable.", valueName: "cidr"))
        var removeNetworks: [String] = []
        @Option(name: .customLong("remove-domain"), help: ArgumentHelp("Remove a sending domain; repeatable.", valueName: "domain"))
        var removeDomains: [String] = []
        @Option(help: ArgumentHelp("yes: check sending domains; no: any sender.", valueName: "yes|no"))
        var restrictSenders: String?
        @Flag(help: "Remove the SMTP password (the account then sends only from its networks).")
        var removePassword = false

        func run() async throws {
            var password: String? = nil
            let account = try await admin.withSession { session in
                try await session.updateAccount(named: name) { account in
                    password = try properties.apply(to: &account, removingNetworks: removeNetworks, removingDomains: removeDomains)
                    if removePassword { account.passwordHash = nil }
                    switch restrictSenders {
                    case nil: break
                    case "yes": account.restrictSenders = true
                    case "no": account.restrictSenders = false
                    case let other?: throw ValidationError("--restrict-senders '\(other)': write yes or no")
                    }
                }
            }
            print("updated account \(name)")
            AccountCommand.describe(account)
            if let password { print("SMTP password (shown once, store it now): \(password)") }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an account.",
            discussion: "Its clients are refused from the next refresh on; mail it already sent is still delivered.")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String

        func run() async throws {
            let removed = try await admin.withSession { try await $0.deleteAccount(name) }
            print(removed ? "deleted account \(name)" : "no account \(name)")
            if !removed { throw ExitCode(1) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop an account from sending (its clients get 451 4.7.1 until resumed).")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String
        @Option(help: "Why (shown to its clients and in the event).")
        var reason: String = "paused by the relay operator"

        func run() async throws {
            let paused = try await admin.withSession { try await $0.pauseAccount(name, reason: reason) }
            print(paused ? "paused account \(name): \(reason)" : "account \(name) was already paused")
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a paused account send again (its bounce statistics start afresh).")
        @OptionGroup var admin: AdminOptions
        @Argument var name: String

        func run() async throws {
            let resumed = try await admin.withSession { try await $0.resumeAccount(name) }
            print(resumed ? "resumed account \(name)" : "account \(name) was not paused")
        }
    }

    struct APIKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api-key",
            abstract: "An account's API keys (for the HTTP API): create, list, revoke.",
            discussion: """
                A key is shown once, at creation; Redis keeps only its SHA-256. A key has scopes — send \
                (POST /v1/messages), read (GET /v1/messages, /v1/events), webhooks, suppressions — and \
                may have its own request rate (else api.key_rate). Example:
                  hikyaku account api-key create acme --label 'billing service' --scope send --rate '20/s burst 40'
                """,
            subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Make a key and print it (once).")
            @OptionGroup var admin: AdminOptions
            @Argument var account: String
            @Option(help: "What it is for (shown by `list`).")
            var label: String?
            @Option(help: ArgumentHelp("What it may do, comma-separated: send, read, webhooks, suppressions.", valueName: "scopes"))
            var scope: String = "send,read"
            @Option(help: ArgumentHelp("Its own request rate, e.g. '20/s burst 40' (default: api.key_rate).", valueName: "rate"))
            var rate: String?

            var scopes: [String] {
                scope.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            }

            func validate() throws {
                let known = APIScope.allCases.map(\.rawValue)
                if scopes.isEmpty || scopes.contains(where: { !known.contains($0) }) {
                    throw ValidationError("--scope: one or more of \(known.joined(separator: ", ")), comma-separated")
                }
                if let rate, Rate(parsing: rate) == nil {
                    throw ValidationError("--rate: '\(rate)' is not a rate such as 20/s or 600/min burst 50")
                }
            }

            func run() async throws {
                let scopes = self.scopes
                let rate = self.rate.flatMap(Rate.init(parsing:))
                let (id, key) = try await admin.withSession {
                    try await $0.createAPIKey(account: account, label: label, scopes: scopes, rate: rate)
                }
                print("API key \(id) for account \(account) (shown once, store it now):")
                print(key)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List an account's keys (ids and labels, never the keys).")
            @OptionGroup var admin: AdminOptions
            @Argument var account: String

            func run() async throws {
                let keys = try await admin.withSession { try await $0.apiKeys(of: account) }
                guard !keys.isEmpty else {
                    print("account \(account) has no API keys")
                    return
                }
                var table = TextTable([("id", .left), ("created", .left), ("scopes", .left), ("rate", .left), ("label", .left)])
                for key in keys {
                    table.add([
                        key.id, key.createdAt, (key.scopes ?? APIKeyInfo.legacyScopes).joined(separator: ","),
                        key.rate.map(\.description) ?? "default", key.label ?? "",
                    ])
                }
                print(table.render(indent: 0))
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a key by its id.")
            @OptionGroup var admin: AdminOptions
            @Argument var account: String
            @Argument var id: String

            func run() async throws {
                let revoked = try await admin.withSession { try await $0.revokeAPIKey(account: account, id: id) }
                print(revoked ? "revoked API key \(id) of \(account)" : "account \(account) has no API key \(id)")
                if !revoked { throw ExitCode(1) }
            }
        }
    }

    static func describe(_ account: Account) {
        print("  account          \(account.name)")
        print("  SMTP AUTH        \(account.passwordHash == nil ? "no" : "yes (password set)")")
        print(
            "  networks         \(account.allowedNetworks.isEmpty ? "-" : account.allowedNetworks.map(\.description).joined(separator: ", "))"
        )
        print("  egress pool      \(account.pool)")
        print(
            "  sending domains  \(account.restrictSenders ? (account.sendingDomains.isEmpty ? "(none)" : account.sendingDomains.joined(separator: ", ")) : "any (not checked)")"
        )
        print("  hourly quota     \(account.hourlyQuota.map { "\($0) recipients" } ?? "none")")
        print("  daily quota      \(account.dailyQuota.map { "\($0) recipients" } ?? "none")")
        if account.maxMessageSize != nil || account.maxRecipients != nil {
            print(
                "  limits           \(account.maxMessageSize.map { "\(ByteSize(bytes: $0)) per message" } ?? "listener's size"), \(account.maxRecipients.map { "\($0) recipients per message" } ?? "listener's recipients")"
            )
        }
        print("  return path      \(account.returnPathDomain.map { "b-<token>@\($0) (VERP)" } ?? "original envelope sender")")
        print("  DSNs to sender   \(account.sendDSNs ? "yes (bounced and expired recipients of SMTP mail)" : "no")")
        if let paused = account.paused {
            print("  PAUSED           since \(paused.since): \(paused.reason)")
        }
    }
}
