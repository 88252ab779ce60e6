import ArgumentParser
import HikyakuApp

/// `--pool` and `--domain`, as the commands that pick part of the queue take them.
struct QueueScopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this egress pool (default: every pool).", valueName: "pool"))
    var pool: String?

    @Option(help: ArgumentHelp("Only this destination domain (default: every domain).", valueName: "domain"))
    var domain: String?

    var normalizedDomain: String? { domain.map(DestinationName.normalized) }
}
