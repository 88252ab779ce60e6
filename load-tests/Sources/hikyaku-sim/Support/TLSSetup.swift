import Foundation
import NIOSSL
import ProcessSpawn

/// The certificate sites offer with STARTTLS: the scenario's PEM files, or a self-signed
/// one made with `openssl` in a temporary directory (clients of a load test do not verify).
enum TLSSetup {
    /// A server context for the scenario, or `nil` when no site offers STARTTLS.
    static func context(for scenario: Scenario) async throws(SimulatorError) -> NIOSSLContext? {
        guard scenario.needsTLS else { return nil }
        let files: Scenario.TLSFiles
        if let configured = scenario.tls {
            files = configured
        } else {
            files = try await Self.selfSignedCertificate()
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
            let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .tls("cannot load \(files.certificate) / \(files.privateKey): \(error)")
        }
    }

    /// Makes an EC P-256 key and a self-signed certificate valid for 30 days.
    static func selfSignedCertificate() async throws(SimulatorError) -> Scenario.TLSFiles {
        let directory = NSTemporaryDirectory() + "hikyaku-sim-tls-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .tls("cannot create \(directory): \(error)")
        }
        let files = Scenario.TLSFiles(certificate: "\(directory)/cert.pem", privateKey: "\(directory)/key.pem")
        let output: Subprocess.Output
        do {
            output = try await Subprocess.run([
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "30", "-subj", "/CN=hikyaku-sim", "-keyout", files.privateKey, "-out", files.certificate,
            ])
        } catch {
            throw .tls("\(error)")
        }
        guard output.status == 0 else {
            throw .tls("openssl req failed (\(output.status)): \(output.standardError)")
        }
        return files
    }
}
