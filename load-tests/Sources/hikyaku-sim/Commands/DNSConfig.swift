import ArgumentParser

struct DNSConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns-config",
        abstract: "Print a dnsmasq configuration with MX, A and TXT records for a scenario's sites.",
        discussion: """
            hikyaku-sim dns-config scenario.json > sim-dns.conf
            dnsmasq --conf-file=sim-dns.conf --port=5354 --keep-in-foreground --no-resolv --no-hosts \\
              --bind-interfaces --listen-address=127.0.0.1 --user=root

            Each domain gets one MX per site address (mx1.<domain>, mx2.<domain>, … or under the \
            site's mx_domain), all with preference 10, an A record per MX host and a TXT record. \
            The top-level zones are local: unknown names get NXDOMAIN or NODATA, never REFUSED.
            """)

    @Argument(help: ArgumentHelp("The scenario file (JSON).", valueName: "scenario"))
    var scenario: String

    func run() throws {
        do {
            print(DnsmasqConfiguration.render(try Scenario.load(path: self.scenario)), terminator: "")
        } catch {
            throw ValidationError(error.description)
        }
    }
}
