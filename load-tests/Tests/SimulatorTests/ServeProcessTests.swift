import Foundation
import ProcessSpawn
import Testing

@testable import hikyaku_sim

/// The `hikyaku-sim` executable as a runner starts it: records appear while it runs,
/// SIGUSR1 prints stats, SIGTERM flushes and exits 0.
@Suite struct ServeProcessTests {
    /// The executable, built beside the test bundle (`swift build --build-tests` builds it).
    static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        // On Linux the test bundle is `<build>/debug/HikyakuPackageTests.xctest`.
        while directory.path != "/", !FileManager.default.fileExists(atPath: directory.appendingPathComponent("hikyaku-sim").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("hikyaku-sim").path
    }

    static func file(_ suffix: String) -> String {
        NSTemporaryDirectory() + "sim-serve-\(UUID().uuidString)\(suffix)"
    }

    @Test func recordsLiveReportsStatsAndFlushesOnSIGTERM() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable), "build hikyaku-sim first")
        let scenario = Self.file(".json")
        let record = Self.file(".jsonl")
        defer {
            try? FileManager.default.removeItem(atPath: scenario)
            try? FileManager.default.removeItem(atPath: record)
        }
        try #"""
        {"listen_port": 0, "sites": [{"name": "proc", "domains": ["proc.sim"], "addresses": ["127.0.19.1"],
          "behaviours": {"unknown_users": {"pattern": "^nouser"}}}]}
        """#.write(toFile: scenario, atomically: true, encoding: .utf8)
        let server = try Subprocess.start([
            Self.executable, "serve", "--scenario", scenario, "--record", record, "--log-level", "notice", "--stats-interval", "0",
        ])

        var port = 0
        try await eventually {
            let log = (try? String(contentsOfFile: server.errorPath, encoding: .utf8)) ?? ""
            guard let range = log.range(of: "listening on port ") else { return false }
            port = Int(log[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        let swaks = try await Subprocess.run([
            "swaks", "--server", "127.0.19.1", "--port", "\(port)", "--from", "s@relay.test", "--to", "a@proc.sim,nouser@proc.sim",
            "--header", "X-Loadtest-Seq: 5",
        ])
        #expect(swaks.status == 0, "\(swaks.standardOutput)")

        // Without any signal, the periodic flush makes both records visible.
        try await eventually {
            ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").split(separator: "\n").count == 2
        }
        server.signal(SIGUSR1)
        try await eventually {
            ((try? String(contentsOfFile: server.errorPath, encoding: .utf8)) ?? "").contains("hikyaku-sim stats:")
        }
        server.signal(SIGTERM)
        let output = await server.wait()
        #expect(output.status == 0, "\(output.standardError)")
        let stats = output.standardError.split(separator: "\n").filter { $0.hasPrefix("hikyaku-sim stats:") }
        #expect(stats.count == 2)
        #expect(stats.last == "hikyaku-sim stats: site=proc accepted=1 recipients=1 refused=1 (unknown_user=1)")

        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.map { $0["reason"] as? String } == ["unknown_user", nil])
        #expect(objects.last?["seq"] as? String == "5")
    }

    @Test func dnsConfigPrintsTheConfigurationAndBadScenariosFail() async throws {
        let scenario = Self.file(".json")
        defer { try? FileManager.default.removeItem(atPath: scenario) }
        try #"{"listen_port": 25, "sites": [{"name": "p", "domains": ["p.sim"], "addresses": ["127.0.0.9"]}]}"#
            .write(toFile: scenario, atomically: true, encoding: .utf8)
        let output = try await Subprocess.run([Self.executable, "dns-config", scenario])
        #expect(output.status == 0)
        #expect(output.standardOutput.contains("\nmx-host=p.sim,mx1.p.sim,10\n"))
        #expect(output.standardOutput.contains("\nhost-record=mx1.p.sim,127.0.0.9\n"))

        try #"{"listen_port": 25, "sites": [{"name": "p", "domains": ["p.sim"], "adresses": ["127.0.0.9"]}]}"#
            .write(toFile: scenario, atomically: true, encoding: .utf8)
        let bad = try await Subprocess.run([Self.executable, "serve", "--scenario", scenario])
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("sites[0].adresses: unknown key"))
    }
}
