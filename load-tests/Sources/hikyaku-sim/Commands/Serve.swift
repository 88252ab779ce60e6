import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the scenario's sites until SIGTERM or SIGINT.",
        discussion: """
            Records (one JSON object per line) are appended to the --record file at least every \
            100 ms and at shutdown. SIGUSR1 prints accepted and refused counts per site to \
            standard error, as does --stats-interval.
            """)

    @Option(help: ArgumentHelp("The scenario file (JSON).", valueName: "file"))
    var scenario: String

    @Option(help: ArgumentHelp("Append records of accepted messages and refused recipients to this file (JSON Lines).", valueName: "file"))
    var record: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: Logger.Level = .notice

    @Option(help: ArgumentHelp("Print the stats line every this many seconds (0: only on SIGUSR1 and at exit).", valueName: "seconds"))
    var statsInterval: Int = 10

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var threads: Int = System.coreCount

    func validate() throws {
        guard self.threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard self.statsInterval >= 0 else { throw ValidationError("--stats-interval must not be negative") }
    }

    func run() async throws {
        let level = self.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "hikyaku-sim")
        let scenario: Scenario
        do {
            scenario = try Scenario.load(path: self.scenario)
        } catch {
            throw ValidationError(error.description)
        }
        let recorder = try self.record.map { path throws(SimulatorError) in try Recorder(path: path) }
        let tls = try await TLSSetup.context(for: scenario)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
        let simulator = Simulator(scenario: scenario, tls: tls, recorder: recorder, group: group, logger: logger)

        // Services stop in reverse order: the simulator closes every connection before the
        // flusher writes the last records.
        var services: [any Service] = []
        if let recorder {
            services.append(RecordFlusher(recorder: recorder, threadPool: threadPool, logger: logger))
        }
        services.append(StatsReporter(simulator: simulator, interval: self.statsInterval > 0 ? .seconds(self.statsInterval) : nil))
        services.append(SimulatorService(simulator: simulator, logger: logger))
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        try await threadPool.shutdownGracefully()
        try await group.shutdownGracefully()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
