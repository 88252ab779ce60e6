import ArgumentParser
import HikyakuApp
import RelayCore

/// `--pool` and `--domain`, as the commands that pick part of the queue take them.
struct QueueScopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this egress pool (default: every pool).", valueName: "pool"))
    var pool: String?

    @Option(help: ArgumentHelp("Only this destination domain (default: every domain).", valueName: "domain"))
    var domain: String?

    func validate() throws {
        if let pool {
            do { try PoolName.validate(pool, key: "--pool") } catch { throw ValidationError("\(error)") }
        }
    }

    var poolName: PoolName? { pool.map(PoolName.init(rawValue:)) }
    var domainName: DomainName? { domain.map(DomainName.init(normalizing:)) }
}
