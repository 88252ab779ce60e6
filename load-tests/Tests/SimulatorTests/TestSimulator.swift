import Foundation
import Logging
import NIOPosix

@testable import hikyaku_sim

/// A simulator started in-process for one test, on a free port, recording to a temporary
/// file. Each test uses its own loopback addresses (`127.0.<net>.x`), so tests running in
/// parallel never share a site.
final class TestSimulator: Sendable {
    let simulator: Simulator
    let recorder: Recorder
    let port: Int

    static let logger: Logger = {
        var logger = Logger(label: "SimulatorTests")
        // SIM_TEST_LOG=trace shows the simulator's sessions on standard error.
        logger.logLevel = ProcessInfo.processInfo.environment["SIM_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }()

    private init(simulator: Simulator, recorder: Recorder, port: Int) {
        self.simulator = simulator
        self.recorder = recorder
        self.port = port
    }

    /// Starts the sites given as the JSON of the scenario's `sites` array.
    static func start(sites: String) async throws -> TestSimulator {
        let json = #"{"listen_port": 0, "sites": \#(sites)}"#
        let scenario = try Scenario.decode(Data(json.utf8))
        let path = NSTemporaryDirectory() + "sim-records-\(UUID().uuidString).jsonl"
        let recorder = try Recorder(path: path)
        let tls = try await TLSSetup.context(for: scenario)
        let simulator = Simulator(
            scenario: scenario, tls: tls, recorder: recorder, group: MultiThreadedEventLoopGroup.singleton, logger: Self.logger)
        let port = try await simulator.start()
        return TestSimulator(simulator: simulator, recorder: recorder, port: port)
    }

    /// Everything recorded so far, each line parsed as a JSON object.
    func records() throws -> [[String: Any]] {
        try self.recorder.flush()
        let text = try String(contentsOfFile: self.recorder.path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        }
    }

    func accepted() throws -> [[String: Any]] {
        try self.records().filter { $0["refused"] == nil }
    }

    func refused() throws -> [[String: Any]] {
        try self.records().filter { $0["refused"] as? Bool == true }
    }

    func stop() async {
        await self.simulator.stop()
        self.recorder.close()
        try? FileManager.default.removeItem(atPath: self.recorder.path)
    }
}
