import BounceClassification
import RelayCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The rules file format: what parses, what an operator's rules change, and errors that
/// name the line.
@Suite struct BounceRulesTests {
    @Test func shippedRulesParse() throws {
        let rules = try BounceRules(parsing: BounceRules.shippedText, source: "shipped")
        #expect(rules == BounceRules.shipped)
        #expect(rules.statusRules.first?.pattern.description == "X.1.1")
    }

    @Test func parsesPatternsSeveritiesRefineCommentsAndEscapes() throws {
        let rules = try BounceRules(
            parsing: """
                # a comment
                status 5.1.1 invalid_recipient   # trailing comment

                status X.7.20-29  policy_authentication hard
                status 4.*.* other soft refine
                \ttext "said \\"no\\" \\\\ *  twice"  content_block soft
                """)
        #expect(rules.statusRules.map(\.pattern.description) == ["5.1.1", "X.7.20-29", "4.*.*"])
        #expect(rules.statusRules.map(\.line) == [2, 4, 5])
        #expect(rules.statusRules.map(\.severity) == [nil, .hard, .soft])
        #expect(rules.statusRules.map(\.refine) == [false, false, true])
        #expect(rules.textRules.count == 1)
        #expect(rules.textRules[0].pattern == #"said "no" \ *  twice"#)
        #expect(rules.textRules[0].line == 6)
        let classifier = BounceClassifier(rules: rules)
        #expect(classifier.classify(reply: #"451 4.3.0 server SAID "No" \ then,   twice"#) == (.contentBlock, .soft))
        #expect(classifier.classify(reply: "451 4.3.0 something else") == (.other, .soft))
        #expect(classifier.classify(reply: "550 5.7.23 SPF failed") == (.policyAuthentication, .hard))
        #expect(classifier.classify(reply: "450 4.7.23 SPF temporarily failed") == (.policyAuthentication, .hard))
        #expect(classifier.classify(reply: "550 5.1.1 no").0 == .invalidRecipient)
        // 4.1.1 is not 5.1.1: the 4.*.* rule.
        #expect(classifier.classify(reply: "450 4.1.1 no").0 == .other)
    }

    @Test func anOperatorFileReplacesTheShippedRules() throws {
        let path = "/tmp/hikyaku-bounce-rules-\(getpid()).txt"
        defer { unlink(path) }
        try Self.write("text \"mailbox unavailable\" other\n", to: path)
        let classifier = BounceClassifier(rules: try BounceRules.load(path: path))
        #expect(classifier.classify(reply: "550 5.5.0 Requested action not taken: mailbox unavailable") == (.other, .hard))
        // Nothing else is classified any more: the shipped rules are gone.
        #expect(classifier.classify(reply: "550 5.1.1 user unknown").0 == .other)
    }

    static let errors: [(String, Int, String)] = [
        ("stat 5.1.1 other", 1, "unknown rule 'stat'"),
        ("# ok\nstatus", 2, "needs an enhanced status code"),
        ("status 5.1 other", 1, "'5.1' is not an enhanced status code pattern"),
        ("status 3.1.1 other", 1, "is not an enhanced status code pattern"),
        ("status 5.1.1000 other", 1, "is not an enhanced status code pattern"),
        ("status 5.7.29-20 other", 1, "is not an enhanced status code pattern"),
        ("status 5.1.1", 1, "needs a class"),
        ("status 5.1.1 user_unknown", 1, "unknown class 'user_unknown'"),
        ("status 5.1.1 other soft soft", 1, "unexpected 'soft'"),
        ("status 5.1.1 other hard later", 1, "unexpected 'later'"),
        ("\n\ntext mailbox other", 3, "pattern in double quotes"),
        ("text \"open other", 1, "closing quote is missing"),
        ("text \"\" other", 1, "the pattern is empty"),
        ("text \" * \" other", 1, "besides '*'"),
        ("text \"a\\n\" other", 1, "unknown escape"),
        ("text \"full\" mailbox_full refine", 1, "unexpected 'refine'"),
    ]

    @Test(arguments: errors)
    func errorsNameTheLine(_ text: String, line: Int, problem: String) {
        #expect {
            try BounceRules(parsing: text, source: "my.rules")
        } throws: { error in
            guard let error = error as? BounceRulesError else { return false }
            return error.line == line && error.problem.contains(problem) && error.description.hasPrefix("my.rules, line \(line): ")
        }
    }

    @Test func loadingNamesTheFile() throws {
        let missing = "/tmp/hikyaku-no-such-rules-\(getpid())"
        #expect(Self.loadError(missing)?.description.hasPrefix("\(missing): cannot open") == true)
        let path = "/tmp/hikyaku-bad-rules-\(getpid()).txt"
        defer { unlink(path) }
        try Self.write("status 5.1.1 invalid_recipient\nstatus 5.1.2 nonsense\n", to: path)
        let classes = BounceClass.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(Self.loadError(path)?.description == "\(path), line 2: unknown class 'nonsense' (one of \(classes))")
    }

    static func loadError(_ path: String) -> BounceRulesError? {
        switch Result(catching: { () throws(BounceRulesError) in try BounceRules.load(path: path) }) {
        case .success: return nil
        case .failure(let error): return error
        }
    }

    static func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw BounceRulesError(source: path, line: nil, problem: "cannot create") }
        fputs(text, file)
        fclose(file)
    }
}
