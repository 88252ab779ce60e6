/// How one check came out.
public enum CheckStatus: String, Sendable, Codable, CaseIterable {
    /// The requirement is met.
    case pass
    /// It is not met; the finding says why and, where DNS can fix it, `fix` what to publish.
    case fail
    /// It works but is weak or could not be fully checked.
    case warn
    /// Advice that DNS cannot show either way.
    case info
}

/// A DNS record the operator should publish: name, type and value as they would appear
/// in a zone (the value without the quotes of a zone file's TXT syntax).
public struct RecordFix: Sendable, Codable, Hashable {
    public var name: String
    public var type: String
    public var value: String

    public init(name: String, type: String, value: String) {
        self.name = name
        self.type = type
        self.value = value
    }
}

/// One line of the report.
public struct CheckResult: Sendable, Codable, Hashable {
    /// Stable check name: `spf`, `dkim`, `dmarc`, `alignment`, `mx`, `return-path-mx`, `fcrdns`, `egress`,
    /// `tls`, `unsubscribe`, `bulk-sender`.
    public var name: String
    /// What the check is about when there is one per item: the DKIM selector, the egress IP.
    public var target: String?
    public var status: CheckStatus
    /// One line: what was found.
    public var finding: String
    /// For failures DNS can repair: the record to publish.
    public var fix: RecordFix?

    public init(name: String, target: String? = nil, status: CheckStatus, finding: String, fix: RecordFix? = nil) {
        self.name = name
        self.target = target
        self.status = status
        self.finding = finding
        self.fix = fix
    }
}

/// The outcome of `hikyaku domain check`. Encoded as JSON with the stable keys `domain`,
/// `checks` (`name`, `target`, `status`, `finding`, `fix` {`name`, `type`, `value`}) and
/// `summary` (`pass`, `fail`, `warn`, `info`).
public struct DomainCheckReport: Sendable, Codable, Hashable {
    public struct Summary: Sendable, Codable, Hashable {
        public var pass: Int
        public var fail: Int
        public var warn: Int
        public var info: Int
    }

    public var domain: String
    public var checks: [CheckResult]
    public var summary: Summary

    public init(domain: String, checks: [CheckResult]) {
        self.domain = domain
        self.checks = checks
        func count(_ status: CheckStatus) -> Int { checks.filter { $0.status == status }.count }
        self.summary = Summary(pass: count(.pass), fail: count(.fail), warn: count(.warn), info: count(.info))
    }

    /// Whether any check failed (the command then exits with status 1).
    public var hasFailures: Bool { self.summary.fail > 0 }

    /// The checks named `name`.
    public func checks(named name: String) -> [CheckResult] {
        self.checks.filter { $0.name == name }
    }
}
