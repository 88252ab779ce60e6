import ArgumentParser
import HikyakuApp
import Logging
import RelayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

@main
struct Hikyaku: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hikyaku",
        abstract: "A self-hosted, horizontally scalable outbound mail relay.",
        discussion: """
            Applications hand mail to Hikyaku over SMTP; it stores each message durably in Redis \
            before answering 250, and delivery workers on any number of hosts deliver it to the \
            recipients' mail exchangers, retrying temporary failures and recording every \
            recipient's outcome as an event.

            Start with `hikyaku serve --config hikyaku.yaml`. The README lists every configuration key.
            """,
        subcommands: [
            Serve.self, Events.self, QueueStatus.self, Suspend.self, Resume.self, RetryNow.self, Bounce.self, Purge.self,
            AccountCommand.self, WebhookCommand.self, DomainCommand.self, SecretsCommand.self, Passwd.self, CheckConfig.self,
            RedisAdminCommand.self, SuppressionCommand.self, CampaignCommand.self, ListCommand.self, VERPCommand.self, LogsCommand.self,
            EraseCommand.self, OperatorCommand.self, UnsubscribeCommand.self,
        ])
}

/// Options shared by every command that reads the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Configuration file (YAML). Without it, built-in defaults and HIKYAKU_* environment overrides apply.", valueName: "file"))
    var config: String?

    func load() throws -> HikyakuConfiguration {
        do {
            return try ConfigurationLoader.load(path: config)
        } catch let error as ConfigurationError {
            throw OperatorError(error.description)
        }
    }
}

private let loggingBootstrapped = Mutex(false)

/// Sets up logging once per process (a second `LoggingSystem.bootstrap` would trap: a
/// command may reach this through more than one helper).
func bootstrapLogging(level: String) {
    guard
        loggingBootstrapped.withLock({ done in
            defer { done = true }
            return !done
        })
    else { return }
    let logLevel = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = logLevel
        return SafeLogHandler(handler)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the relay: SMTP listeners (ingest), delivery workers, the HTTP API, or all of them.",
        discussion: """
            Roles:
              ingest  accept mail on the configured SMTP listeners and store it in Redis
              worker  claim stored mail, deliver it to the recipients' MX servers, record outcomes
              api     accept mail over HTTP (api:, /v1/messages) through the same intake as SMTP
              webhooks  POST events to the accounts' signed webhooks (hikyaku webhook), trim the events stream
              bounce  the inbound MX of the return-path domains (bounces.listen): asynchronous bounces, \
            complaints (ARF), suppressions
              archiver  copy the events stream into the log store (logs:): SQLite, one per store; PostgreSQL, any number
              campaigns  fan campaigns out through the intake (hikyaku campaign), count their events
              all     every role in one process (default; the bounce listener only with bounces.listen, \
            the archiver only with logs.sqlite_path or logs.postgres_url)

            Every role is stateless around Redis: run as many processes of each as you need, on \
            as many hosts. SIGTERM or SIGINT stops gracefully: listeners stop accepting, workers \
            finish the batch in hand and record its outcome.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(
        help: ArgumentHelp(
            "ingest (SMTP), worker (delivery), api (HTTP API), webhooks, bounce, archiver, console, campaigns or all.", valueName: "role"))
    var role: String = "all"

    func run() async throws {
        guard let role = Role(rawValue: role) else {
            throw ValidationError("--role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let configuration = try options.load()
        bootstrapLogging(level: configuration.logLevel)
        let logger = Logger(label: "hikyaku")
        let registry = HikyakuApplication.bootstrapMetrics(configuration.metrics)
        do {
            try await HikyakuApplication(configuration: configuration, role: role, logger: logger, metricsRegistry: registry).run()
        } catch let error as ConfigurationError {
            throw OperatorError(error.description)
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration (file plus HIKYAKU_* overrides) and exit.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        do {
            _ = try HikyakuApplication.bounceRules(configuration.bounces)
        } catch let error as ConfigurationError {
            throw OperatorError(error.description)
        }
        if configuration.redis.url != nil || !configuration.redis.sentinels.isEmpty {
            // Parses the URL and reads the TLS files as `serve` would; connects nowhere.
            do {
                try await HikyakuApplication.checkRedisSettings(configuration.redis, logger: Logger(label: "hikyaku"))
            } catch let error as ConfigurationError {
                throw OperatorError(error.description)
            }
        }
        print(
            "configuration OK: \(configuration.ingest.listeners.count) listener(s), redis \(configuration.redis.redactedURL ?? "(not set)")"
        )
    }
}

struct Passwd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hash a password for ingest.users[].password_hash (yescrypt).",
        discussion: "Reads the password from standard input (one line), so it stays out of shell history and process lists.")

    func run() async throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password on standard input (try: echo 'secret' | hikyaku passwd)")
        }
        guard let hash = AccountPassword.hash(line) else {
            throw ValidationError("could not hash the password (libxcrypt without yescrypt?)")
        }
        print(hash)
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the events stream.",
        subcommands: [Tail.self, EventGroupsCommand.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as JSON lines, oldest first; with --follow, keep printing new ones.",
            discussion: """
                Each line is one event — accepted, delivered, deferred, bounced, expired, suppressed, \
                complaint, purged, backoff, paused or resumed — with queue id, Message-ID, sender, \
                recipient, remote host and reply, bounce class, attempt and times (README, "Following \
                what happened").
                """)

        @OptionGroup var admin: AdminOptions

        @Option(
            name: .customLong("message-id"),
            help: "Only events of this message (its Message-ID header, with or without <>, or the relay's queue id).")
        var messageID: String?

        @Option(help: "Only events for this recipient address (case-insensitive).")
        var recipient: String?

        @Option(help: "Only events of this account (what a tenant may see of the stream).")
        var account: String?

        @Flag(name: .shortAndLong, help: "Keep waiting for new events.")
        var follow = false

        @Option(help: "Print only the last N matching events before following (default: all).")
        var last: Int?

        func run() async throws {
            try await admin.withSession { session in try await tail(session) }
        }

        private func tail(_ session: AdminSession) async throws {
            let wantedID = messageID.map { $0.trimmingCharacters(in: "<> ") }
            let wantedRecipient = recipient?.lowercased()
            func matches(_ event: DeliveryEvent) -> Bool {
                if let account, event.account != account { return false }
                if let wantedID {
                    let mid = event.messageID?.trimmingCharacters(in: "<> ")
                    if mid != wantedID && event.queueID != wantedID { return false }
                }
                if let wantedRecipient {
                    let all = ([event.recipient] + (event.recipients ?? []).map { Optional($0) }).compactMap { $0?.lowercased() }
                    if !all.contains(wantedRecipient) { return false }
                }
                return true
            }
            var cursor = "0"
            var backlog: [String] = []
            while true {
                let page = try await session.events(after: cursor, count: 1000)
                guard let lastEntry = page.last else { break }
                cursor = lastEntry.id
                for (_, event) in page where matches(event) {
                    backlog.append(AdminSession.jsonLine(event))
                }
            }
            if let last { backlog = Array(backlog.suffix(last)) }
            for line in backlog { print(line) }
            fflush(nil)
            guard follow else { return }
            while true {
                let page = try await session.events(after: cursor, count: 1000, block: .seconds(5))
                for (id, event) in page {
                    cursor = id
                    if matches(event) {
                        print(AdminSession.jsonLine(event))
                    }
                }
                fflush(nil)
            }
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
