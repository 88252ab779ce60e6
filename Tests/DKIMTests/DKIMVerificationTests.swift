import DKIM
import Foundation
import Testing

/// Signatures checked by an independent verifier: dkimpy (PyPI `dkimpy`, with `pynacl` for
/// Ed25519), run on the signed messages through `verify_dkim.py` beside this file, with
/// the key records served by a stub DNS function.
struct DKIMVerificationTests {
    static let domain = "example.com"

    /// Messages of different shapes, as they would be sent.
    static let messages: [(name: String, text: String)] = [
        (
            "plain",
            "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: Hello\r\n"
                + "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob.\r\n"
        ),
        (
            "messy",
            "Received: from client (client [192.0.2.1])\r\n\tby relay; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                + "FROM:   \"Alice  Example\" \t<alice@example.com>  \r\n"
                + "To: bob@example.net,\r\n  carol@example.net\r\n"
                + "Subject: =?UTF-8?B?44GT44KT44Gr44Gh44Gv?=\r\n\t folded  subject \r\n"
                + "To: dave@example.net\r\n"
                + "List-Unsubscribe: <https://example.com/u/1>, <mailto:u@example.com>\r\n"
                + "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                + "References: <a@example.com> <b@example.com> <c@example.com> <d@example.com> <e@example.com>\r\n"
                + " <f@example.com> <g@example.com>\r\n"
                + "X-Unsigned: anything\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "  leading space\r\ntrailing space \t \r\nruns\t\tof  \t white\r\n\r\n\r\nこんにちは\r\n\r\n \r\n\r\n"
        ),
        ("empty-body", "From: alice@example.com\r\nSubject: nothing\r\n\r\n"),
        ("no-final-blank-line", "From: alice@example.com\r\nSubject: header only\r\n"),
        (
            "large",
            "From: alice@example.com\r\nSubject: large\r\n\r\n"
                + String(repeating: "A line of a long newsletter, with  some\t white space at the end  \r\n", count: 1500)
        ),
    ]

    @Test(arguments: DKIMAlgorithm.allCases)
    func dkimpyVerifiesWhatWeSign(algorithm: DKIMAlgorithm) throws {
        let signer = try DKIMSigner(domain: Self.domain, selector: "hk-\(algorithm.keyType)", key: DKIMPrivateKey.generate(algorithm))
        let now = Int64(Date().timeIntervalSince1970)
        var cases: [(name: String, signed: [UInt8])] = []
        for (name, message) in Self.messages {
            let field = try signer.sign(Array(message.utf8), time: now)
            cases.append((name, Array((field + message).utf8)))
        }
        let results = try DKIMPy.verify(cases, records: [signer])
        for (name, _) in cases {
            let result = try #require(results[name])
            #expect(result.verified, "dkimpy failed the \(algorithm.rawValue) signature on '\(name)': \(result.log)")
        }
    }

    /// Changes a verifier must catch — and, as controls, changes relaxed/relaxed and the
    /// §5.4.2 header selection are meant to survive.
    ///
    /// dkimpy adds one `from` to h= itself when verifying (its bug 644046), so the two
    /// "second From" cases would fail even without our over-signing; that `h=` lists From
    /// once more than present is checked in DKIMSignerTests.
    @Test(arguments: DKIMAlgorithm.allCases)
    func dkimpyRejectsTamperedMessages(algorithm: DKIMAlgorithm) throws {
        let signer = try DKIMSigner(domain: Self.domain, selector: "hk-\(algorithm.keyType)", key: DKIMPrivateKey.generate(algorithm))
        let message = Self.messages[0].text
        let signed = try signer.sign(Array(message.utf8), time: Int64(Date().timeIntervalSince1970)) + message
        func replacing(_ old: String, _ new: String) -> String {
            precondition(signed.contains(old))
            return signed.replacingOccurrences(of: old, with: new)
        }
        let mustFail = [
            ("body byte changed", replacing("Hello Bob.", "Hello Bod.")),
            ("subject changed", replacing("Subject: Hello", "Subject: Hallo")),
            ("second From added below", replacing("To: bob", "From: Mallory <m@example.org>\r\nTo: bob")),
            ("second From added on top", "From: Mallory <m@example.org>\r\n" + signed),
            ("body line appended", signed + "P.S. click here\r\n"),
            ("signed To added", replacing("Subject: Hello", "To: eve@example.org\r\nSubject: Hello")),
        ]
        let mustPass = [
            ("untouched", signed),
            ("unsigned header added", "Received: by mx.example.net; Thu, 1 Jan 2026 00:00:01 +0000\r\n" + signed),
            ("body white space changed", replacing("Hello Bob.\r\n", "Hello  Bob. \t\r\n\r\n")),
            ("subject refolded", replacing("Subject: Hello", "Subject:\r\n\tHello")),
        ]
        let cases = (mustFail + mustPass).map { (name: $0.0, signed: Array($0.1.utf8)) }
        let results = try DKIMPy.verify(cases, records: [signer])
        for (name, _) in mustFail {
            let result = try #require(results[name])
            #expect(!result.verified, "dkimpy accepted a \(algorithm.rawValue) signature on a message with \(name)")
        }
        for (name, _) in mustPass {
            let result = try #require(results[name])
            #expect(result.verified, "dkimpy failed the \(algorithm.rawValue) signature on the '\(name)' message: \(result.log)")
        }
    }

    @Test func aRecordAtTheWrongSelectorFails() throws {
        let signer = try DKIMSigner(domain: Self.domain, selector: "published", key: DKIMPrivateKey.generate(.ed25519SHA256))
        let other = try DKIMSigner(domain: Self.domain, selector: "signing", key: DKIMPrivateKey.generate(.ed25519SHA256))
        let message = Self.messages[0].text
        let signed = try other.sign(Array(message.utf8), time: Int64(Date().timeIntervalSince1970)) + message
        let results = try DKIMPy.verify([("unpublished", Array(signed.utf8))], records: [signer])
        #expect(results["unpublished"]?.verified == false)
    }
}

/// Runs `verify_dkim.py` once over many messages.
enum DKIMPy {
    struct Result: Decodable {
        var verified: Bool
        var log: String
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("verify_dkim.py")

    /// Verifies each signed message with dkimpy, serving each signer's key record at
    /// `<selector>._domainkey.<domain>.`. Results are keyed by case name.
    static func verify(_ cases: [(name: String, signed: [UInt8])], records signers: [DKIMSigner]) throws -> [String: Result] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dkim-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var paths: [String: String] = [:]
        for (index, testCase) in cases.enumerated() {
            let path = directory.appendingPathComponent("message-\(index).eml").path
            try Data(testCase.signed).write(to: URL(fileURLWithPath: path))
            paths[path] = testCase.name
        }
        var records: [String: String] = [:]
        for signer in signers {
            records["\(signer.selector)._domainkey.\(signer.domain)."] = signer.key.dnsRecord()
        }
        let manifest = directory.appendingPathComponent("manifest.json")
        let manifestObject: [String: Any] = ["records": records, "messages": Array(paths.keys)]
        try JSONSerialization.data(withJSONObject: manifestObject).write(to: manifest)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, manifest.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw Missing(description: "could not run python3 (\(error)); install python3, then: python3 -m pip install dkimpy pynacl")
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            if process.terminationStatus == 2 || process.terminationStatus == 127 {
                throw Missing(
                    description: "this test needs python3 with dkimpy and PyNaCl: python3 -m pip install dkimpy pynacl "
                        + "(or scripts/install-deps.sh). python3 said: \(stderr)")
            }
            throw Missing(description: "verify_dkim.py exited with status \(process.terminationStatus): \(stderr)")
        }
        let byPath = try JSONDecoder().decode([String: Result].self, from: stdout)
        var results: [String: Result] = [:]
        for (path, result) in byPath {
            if let name = paths[path] { results[name] = result }
        }
        return results
    }
}
