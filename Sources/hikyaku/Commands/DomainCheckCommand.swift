import ArgumentParser
import Foundation
import HikyakuApp
import Logging
import RelayCore

extension DomainCommand {
    /// `hikyaku domain check DOMAIN`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that DOMAIN's DNS lets receivers accept the relay's mail, and print the records to publish.",
            discussion: """
                Checks, each PASS, FAIL or WARN with a one-line finding and, for failures DNS \
                can repair, the record to publish:
                  spf          one v=spf1 record authorising every egress IP, no +all
                  dkim         <selector>._domainkey.DOMAIN holds the relay's key
                  dmarc        _dmarc.DOMAIN (or its organizational domain) has a policy
                  alignment    the From domain matches the DKIM d= or the SPF domain
                  mx           DOMAIN receives replies and bounces: MX or A, no null MX
                  return-path-mx  with a VERP return-path domain: it receives the bounces (MX);
                               SPF is then checked for it, the envelope sender's domain
                  fcrdns       each egress IP's PTR resolves back and is its EHLO name
                  tls          outbound STARTTLS is enabled
                  unsubscribe  reminder: one-click unsubscribe (RFC 8058) is a header
                  bulk-sender  the Gmail/Yahoo 2024 bulk-sender requirements, summarised

                Egress IPs and EHLO names come from delivery.egress (without it: the host name \
                and its addresses). The return-path domain is --return-path, else that of the accounts \
                sending from DOMAIN (account set --return-path-domain). DNS is asked through --dns-server, else delivery.dns_servers, \
                else /etc/resolv.conf. Exit status 0 when no check fails, 1 when one does.
                """)

        @Argument(help: "The domain in the From address of the mail the relay sends.")
        var domain: String

        @OptionGroup var admin: AdminOptions

        @Flag(
            help:
                "Print one JSON object: domain, checks[{name, target, status, finding, fix{name, type, value}}], summary{pass, fail, warn, info}."
        )
        var json = false

        @Option(
            name: .customLong("dns-server"),
            help: ArgumentHelp(
                "Recursive DNS server to ask (repeatable; default: delivery.dns_servers, else /etc/resolv.conf).", valueName: "ip[:port]"))
        var dnsServers: [String] = []

        @Option(
            name: .customLong("dkim-selector"),
            help: ArgumentHelp(
                "A DKIM selector the relay signs with and its exact TXT record (repeatable), e.g. s1='v=DKIM1; k=rsa; p=MIIB…'.",
                valueName: "name=record"))
        var dkimSelectors: [String] = []

        @Option(
            name: .customLong("egress"),
            help: ArgumentHelp("An egress IP and its EHLO name, instead of delivery.egress (repeatable).", valueName: "ip[=helo]"))
        var egress: [String] = []

        @Option(
            name: .customLong("mail-from-domain"),
            help: ArgumentHelp("The envelope sender's domain, which SPF authorises (default: DOMAIN).", valueName: "domain"))
        var mailFromDomain: String?

        @Option(
            name: .customLong("return-path"),
            help: ArgumentHelp(
                "The VERP return-path domain mail from DOMAIN is sent with (default: the sending accounts'); checks its MX and SPF.",
                valueName: "domain"))
        var returnPath: String?

        @Option(
            name: .customLong("dkim-domain"),
            help: ArgumentHelp("The d= domain of the relay's DKIM signatures (default: DOMAIN).", valueName: "domain"))
        var dkimDomain: String?

        func validate() throws {
            guard DomainCheckRequest.isDomainName(domain) else {
                throw ValidationError("'\(domain)' is not a domain name (give the part after @, e.g. example.com)")
            }
            for selector in try self.selectors() {
                if let problem = DomainCheckRequest.selectorProblem(selector: selector.selector, record: selector.record) {
                    throw ValidationError("--dkim-selector: \(problem)")
                }
            }
            _ = try self.egressIdentities(hostname: "localhost")
            if let returnPath, !DomainCheckRequest.isDomainName(returnPath) {
                throw ValidationError("--return-path '\(returnPath)' is not a domain name")
            }
        }

        func run() async throws {
            let configuration = try admin.config.load()
            // The relay's own keys, when no --dkim-selector says otherwise: every key of the
            // domain that is signing or about to (`hikyaku domain add`/`rotate`).
            var selectors = try self.selectors()
            var storeNote: String? = nil
            if selectors.isEmpty {
                do {
                    let stored = try await admin.withSession { try await $0.sendingDomain(Account.normalizedDomain(dkimDomain ?? domain)) }
                    selectors = (stored?.keys ?? []).filter { $0.state != .retired }.map { ($0.selector, $0.dnsRecord) }
                    if stored == nil { storeNote = "no DKIM keys in the relay for \(dkimDomain ?? domain) (hikyaku domain add)" }
                } catch {
                    storeNote = "could not read the relay's DKIM keys from Redis (\(error)); give --dkim-selector"
                }
            }
            // The return-path domain of the accounts that send from DOMAIN, when not given.
            var returnPath = self.returnPath
            let redisConfigured = admin.redisURL != nil || configuration.redis.url != nil || !configuration.redis.sentinels.isEmpty
            if returnPath == nil && mailFromDomain == nil && redisConfigured {
                let accounts = (try? await admin.withSession { try await $0.allAccounts() }) ?? []
                let normalized = Account.normalizedDomain(domain)
                let found = Set(accounts.filter { $0.sendingDomains.contains(normalized) }.compactMap(\.returnPathDomain))
                if found.count > 1 && !json {
                    print(
                        "note: accounts sending from \(domain) use several return-path domains (\(found.sorted().joined(separator: ", "))); checking \(found.min()!) — give --return-path for another"
                    )
                }
                returnPath = found.min()
            }
            for server in dnsServers where !DomainCheckRequest.isDNSServer(server) {
                throw ValidationError("--dns-server '\(server)' is not ip or ip:port")
            }
            bootstrapLogging(level: "error")
            var request = DomainCheckRequest(domain: domain)
            request.dnsServers = dnsServers
            request.dkimSelectors = selectors
            request.egress = try self.egressIdentities(hostname: configuration.hostname)
            request.mailFromDomain = mailFromDomain
            request.dkimDomain = dkimDomain
            request.returnPathDomain = returnPath
            let report = try await request.run(configuration, logger: Logger(label: "hikyaku"))

            if let storeNote, !json { print("note: \(storeNote)") }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: RemoteText.escapingC1(json: try encoder.encode(report)), as: UTF8.self))
            } else {
                // DNS records are remote text: no control character reaches the terminal.
                print(RemoteText.sanitized(report.text, keepingLineFeeds: true))
            }
            if report.hasFailures { throw ExitCode.failure }
        }

        /// `--dkim-selector NAME=RECORD`: the record is everything after the first `=`.
        private func selectors() throws -> [(selector: String, record: String)] {
            try dkimSelectors.map { option in
                guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
                    throw ValidationError("--dkim-selector '\(option.prefix(40))': expected NAME=RECORD, e.g. s1='v=DKIM1; k=rsa; p=MIIB…'")
                }
                return (String(option[..<equals]), String(option[option.index(after: equals)...]))
            }
        }

        /// `--egress IP[=HELO]`, the EHLO name defaulting to `hostname`.
        private func egressIdentities(hostname: String) throws -> [(address: String, heloName: String)] {
            try egress.map { option in
                let parts = option.split(separator: "=", maxSplits: 1).map(String.init)
                guard let address = parts.first, IPNetwork.parseAddress(address) != nil else {
                    throw ValidationError("--egress '\(option)': expected IP[=HELO], e.g. 192.0.2.10=mail.example.com")
                }
                return (address, parts.count == 2 ? parts[1] : hostname)
            }
        }
    }
}
