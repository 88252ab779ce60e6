/// `latency_ms`: delays before the site answers, in milliseconds. The delay holds the
/// session (pipelined commands wait), as a slow receiver does; it never blocks a thread.
///
/// ```json
/// "latency_ms": {"greeting": 0, "mail": 0, "rcpt": 0, "data": 20}
/// ```
/// `data` delays the final reply after the end of data (`250` or a drop).
struct Latency: Decodable, Hashable, Sendable {
    var greeting = 0
    var mail = 0
    var rcpt = 0
    var data = 0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case greeting, mail, rcpt, data
    }

    init(greeting: Int = 0, mail: Int = 0, rcpt: Int = 0, data: Int = 0) {
        self.greeting = greeting
        self.mail = mail
        self.rcpt = rcpt
        self.data = data
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        for key in CodingKeys.allCases {
            let value = try container.decodeIfPresent(Int.self, forKey: key) ?? 0
            guard value >= 0 else { throw ScenarioError.invalidValue("\(decoder.keyPath).\(key.stringValue)", "must not be negative") }
            switch key {
            case .greeting: self.greeting = value
            case .mail: self.mail = value
            case .rcpt: self.rcpt = value
            case .data: self.data = value
            }
        }
    }
}
