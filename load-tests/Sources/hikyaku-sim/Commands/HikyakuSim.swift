import ArgumentParser

@main
struct HikyakuSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hikyaku-sim",
        abstract: "Receiving-site simulator for Hikyaku load tests: fake MX sites with throttling, greylisting and more.",
        discussion: """
            One process serves every site of a scenario (JSON): each site listens on its own \
            loopback addresses at the scenario's listen_port and answers as configured \
            (per-IP rate limits with 421, blocks after excess, unknown users, mailbox full, \
            greylisting, latency, dropped connections, STARTTLS). Every accepted message and \
            every refused recipient is appended to a JSON Lines record file.

            `hikyaku-sim dns-config` writes the matching dnsmasq configuration (MX, A, TXT).
            load-tests/SIMULATOR.md describes the scenario and record formats.
            """,
        subcommands: [Serve.self, DNSConfig.self])
}
