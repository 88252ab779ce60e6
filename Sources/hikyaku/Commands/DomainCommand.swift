import ArgumentParser
import HikyakuApp
import RelayCore

/// `hikyaku domain …`: sending domains' DKIM keys (RFC 6376), kept in Redis so every
/// ingest node signs with the same keys.
struct DomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain",
        abstract: "Sending domains: DKIM keys (add, rotate, activate), the DNS records to publish, and a check of their DNS.",
        discussion: """
            `domain add` generates two keys — RSA-2048 (rsa-sha256, what every receiver \
            verifies) and Ed25519 (ed25519-sha256, RFC 8463) — and prints the TXT records to \
            publish. From then on every message whose From: is the domain (or a subdomain) is \
            signed with both, relaxed/relaxed, when the sender may use it: the operator's \
            allow-listed networks, or an account whose sending domains include it.

            Rotation: `domain rotate` makes new keys (pending: not signing yet) and prints their \
            records; publish them, wait for DNS, then `domain activate` makes them sign and \
            retires the old ones — keep the old records published for a few days, then \
            `domain remove DOMAIN --selector OLD`.

            Examples:
              hikyaku domain add acme.example
              hikyaku domain show acme.example
              hikyaku domain rotate acme.example && hikyaku domain activate acme.example
            """,
        subcommands: [Add.self, List.self, Show.self, Rotate.self, Activate.self, Remove.self, Check.self])

    static func parseDomain(_ text: String) throws -> String {
        do { return try Account.validate(domain: text) } catch { throw ValidationError(error.problem) }
    }

    /// The record in zone-file form, its value split into strings of at most 255 octets
    /// (a TXT character-string's limit, RFC 1035 §3.3.14; verifiers join them, RFC 6376 §3.6.2.2).
    static func zoneLine(_ domain: SendingDomain, _ key: SendingDomain.DKIMKeyEntry) -> String {
        var strings: [String] = []
        var rest = Substring(key.dnsRecord)
        while !rest.isEmpty {
            strings.append("\"\(rest.prefix(255))\"")
            rest = rest.dropFirst(255)
        }
        return "\(domain.recordName(key)). 3600 IN TXT ( \(strings.joined(separator: " ")) )"
    }

    static func printRecords(_ domain: SendingDomain, states: Set<SendingDomain.DKIMKeyEntry.State>) {
        for key in domain.keys where states.contains(key.state) {
            print(
                "; \(key.algorithm), \(key.state.rawValue)\(key.state == .retired ? " (keep published until mail signed with it has been read)" : "")"
            )
            print(zoneLine(domain, key))
        }
    }

    static func printAdvice(_ domain: String) {
        print(
            """

            Also publish, if not yet there (`hikyaku domain check \(domain)` tells what is missing):
            ; SPF: authorise the relay's egress IPs, e.g.
            \(domain). 3600 IN TXT "v=spf1 ip4:<each egress IPv4> ip6:<each egress IPv6> ~all"
            ; DMARC:
            _dmarc.\(domain). 3600 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@\(domain)"
            """)
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Generate DKIM keys for a domain and print the DNS records to publish.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The domain (its xn-- form for an IDN).")
        var domain: String
        @Option(help: "Selector prefix (the selectors are <prefix><yyyymm>r and …e).")
        var selectorPrefix: String = "hk"

        func run() async throws {
            let name = try DomainCommand.parseDomain(domain)
            let sealing = try admin.sealingForStoring()
            let created = try await admin.withSession { try await $0.addDomain(name, selectorPrefix: selectorPrefix, sealing: sealing) }
            print("DKIM keys for \(name) created; mail from \(name) is signed with both from now on.")
            print("Publish these records (until they are, receivers treat the signatures as unverifiable):\n")
            DomainCommand.printRecords(created, states: [.active])
            DomainCommand.printAdvice(name)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List domains with DKIM keys.")
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let domains = try await admin.withSession { try await $0.sendingDomains() }
            guard !domains.isEmpty else {
                print("no domains with DKIM keys (add one with `hikyaku domain add DOMAIN`)")
                return
            }
            var table = TextTable([("domain", .left), ("signing with", .left), ("pending", .left), ("retired", .left)])
            for domain in domains {
                func selectors(_ state: SendingDomain.DKIMKeyEntry.State) -> String {
                    let found = domain.keys.filter { $0.state == state }.map(\.selector)
                    return found.isEmpty ? "-" : found.joined(separator: ", ")
                }
                table.add([domain.domain, selectors(.active), selectors(.pending), selectors(.retired)])
            }
            print(table.render(indent: 0))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a domain's DKIM records (never its private keys).")
        @OptionGroup var admin: AdminOptions
        @Argument var domain: String

        func run() async throws {
            let name = try DomainCommand.parseDomain(domain)
            guard let found = try await admin.withSession({ try await $0.sendingDomain(name) }) else {
                throw OperatorError("\(name) has no DKIM keys (`hikyaku domain add \(name)`)")
            }
            DomainCommand.printRecords(found, states: [.active, .pending, .retired])
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make new keys (pending) and print their records; `domain activate` switches to them.")
        @OptionGroup var admin: AdminOptions
        @Argument var domain: String
        @Option(help: "Selector prefix.")
        var selectorPrefix: String = "hk"

        func run() async throws {
            let name = try DomainCommand.parseDomain(domain)
            let sealing = try admin.sealingForStoring()
            let updated = try await admin.withSession { try await $0.rotateDomain(name, selectorPrefix: selectorPrefix, sealing: sealing) }
            print("New keys for \(name) (pending: not signing yet). Publish these records, then run `hikyaku domain activate \(name)`:\n")
            DomainCommand.printRecords(updated, states: [.pending])
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign with the pending keys from now on; the active ones become retired.")
        @OptionGroup var admin: AdminOptions
        @Argument var domain: String

        func run() async throws {
            let name = try DomainCommand.parseDomain(domain)
            let updated = try await admin.withSession { try await $0.activateDomain(name) }
            print(
                "\(name) now signs with \(updated.activeKeys.map(\.selector).joined(separator: ", ")). Keep the retired records published for a few days:"
            )
            DomainCommand.printRecords(updated, states: [.retired])
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a domain's keys, or one retired or pending selector.")
        @OptionGroup var admin: AdminOptions
        @Argument var domain: String
        @Option(help: "Remove only this selector (not an active one).")
        var selector: String?

        func run() async throws {
            let name = try DomainCommand.parseDomain(domain)
            let message = try await admin.withSession { try await $0.removeDomain(name, selector: selector) }
            print(message)
        }
    }
}
