import ArgumentParser
import DKIM
import Ingest
import Queue
import RelayCore
import Secrets

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

    /// New keys for `domain`, one per algorithm, with selectors `<prefix><yyyymm>r` / `…e`
    /// (a letter more if taken).
    /// Sealed with `keyring`'s newest key (nil: stored as plaintext PEM).
    static func newKeys(for domain: SendingDomain, prefix: String, state: SendingDomain.DKIMKeyEntry.State,
                        keyring: SecretKeyring?) throws -> [SendingDomain.DKIMKeyEntry] {
        let now = Clock.iso8601(milliseconds: Clock.nowMilliseconds())
        let month = now.prefix(7).replacingOccurrences(of: "-", with: "")
        let taken = Set(domain.keys.map(\.selector))
        var round = ""
        var letters = Array("bcdefghijklmnopqrstuvwxyz").makeIterator()
        while taken.contains("\(prefix)\(month)\(round)r") || taken.contains("\(prefix)\(month)\(round)e") {
            round = String(letters.next() ?? "z") + String(Int.random(in: 0..<1000))
        }
        return try [(DKIMAlgorithm.rsaSHA256, "r"), (.ed25519SHA256, "e")].map { algorithm, suffix in
            let key = try DKIMPrivateKey.generate(algorithm)
            let selector = "\(prefix)\(month)\(round)\(suffix)"
            let stored = try DKIMKeyStorage.store(pem: key.pem, domain: domain.domain, selector: selector, keyring: keyring)
            return SendingDomain.DKIMKeyEntry(selector: selector, algorithm: algorithm.rawValue,
                                              storedPrivateKey: stored, dnsRecord: key.dnsRecord(), state: state, createdAt: now)
        }
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
            print("; \(key.algorithm), \(key.state.rawValue)\(key.state == .retired ? " (keep published until mail signed with it has been read)" : "")")
            print(zoneLine(domain, key))
        }
    }

    static func printAdvice(_ domain: String) {
        print("""

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
            let keyring = try admin.keyringForStoring()
            let created = try await admin.withAccounts { store in
                if try await store.domain(name) != nil {
                    throw StartupError(description: "\(name) already has keys; `hikyaku domain show \(name)` prints them, `hikyaku domain rotate \(name)` makes new ones")
                }
                var entry = SendingDomain(domain: name, keys: [], createdAt: Clock.iso8601(milliseconds: Clock.nowMilliseconds()))
                entry.keys = try DomainCommand.newKeys(for: entry, prefix: selectorPrefix, state: .active, keyring: keyring)
                try await store.putDomain(entry)
                return entry
            }
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
            let domains = try await admin.withAccounts { try await $0.domains() }
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
            guard let found = try await admin.withAccounts({ try await $0.domain(name) }) else {
                throw StartupError(description: "\(name) has no DKIM keys (`hikyaku domain add \(name)`)")
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
            let keyring = try admin.keyringForStoring()
            let updated = try await admin.withAccounts { store in
                guard var found = try await store.domain(name) else {
                    throw StartupError(description: "\(name) has no DKIM keys (`hikyaku domain add \(name)`)")
                }
                found.keys.removeAll { $0.state == .pending }
                found.keys += try DomainCommand.newKeys(for: found, prefix: selectorPrefix, state: .pending, keyring: keyring)
                try await store.putDomain(found)
                return found
            }
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
            let updated = try await admin.withAccounts { store in
                guard var found = try await store.domain(name) else {
                    throw StartupError(description: "\(name) has no DKIM keys")
                }
                guard found.keys.contains(where: { $0.state == .pending }) else {
                    throw StartupError(description: "\(name) has no pending keys (`hikyaku domain rotate \(name)` makes some)")
                }
                for index in found.keys.indices {
                    switch found.keys[index].state {
                    case .active: found.keys[index].state = .retired
                    case .pending: found.keys[index].state = .active
                    case .retired: break
                    }
                }
                try await store.putDomain(found)
                return found
            }
            print("\(name) now signs with \(updated.activeKeys.map(\.selector).joined(separator: ", ")). Keep the retired records published for a few days:")
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
            let message = try await admin.withAccounts { store -> String in
                guard let selector else {
                    return try await store.deleteDomain(name) ? "removed \(name): its mail is no longer signed" : "\(name) had no keys"
                }
                guard var found = try await store.domain(name), let key = found.keys.first(where: { $0.selector == selector }) else {
                    throw StartupError(description: "\(name) has no selector \(selector)")
                }
                guard key.state != .active else {
                    throw StartupError(description: "\(selector) is signing now; rotate and activate first")
                }
                found.keys.removeAll { $0.selector == selector }
                try await store.putDomain(found)
                return "removed selector \(selector) of \(name)"
            }
            print(message)
        }
    }
}
