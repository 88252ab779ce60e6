import Foundation

/// Shared counters: which message number is next, how submissions went, and how long
/// each submission (an SMTP transaction, or an HTTP request) took to be answered.
actor Counters {
    let total: Int
    private var nextSeq = 0
    private(set) var accepted = 0
    /// Refused messages by reason: the SMTP reply code, the HTTP status, or, for an item a
    /// batch refused on its own, `item:<error code>`.
    private var refusedBy: [String: Int] = [:]
    private var errors = 0
    private var requests = 0
    /// Microseconds from sending a submission to its answer, one entry per submission.
    private var latencies: [Int64] = []

    init(total: Int) { self.total = total }

    /// The next message number, or nil when all are handed out.
    func take() -> Int? {
        guard nextSeq < total else { return nil }
        defer { nextSeq += 1 }
        return nextSeq
    }

    /// Up to `count` next message numbers (empty when all are handed out).
    func take(_ count: Int) -> [Int] {
        let end = min(total, nextSeq + max(1, count))
        defer { nextSeq = max(nextSeq, end) }
        return Array(nextSeq..<max(nextSeq, end))
    }

    func done(code: Int) {
        if code == 250 { accepted += 1 } else { refusedBy[String(code), default: 0] += 1 }
    }

    func accepted(_ count: Int) { accepted += count }

    func refused(_ reason: String, count: Int = 1) { refusedBy[reason, default: 0] += count }

    func failed(_ count: Int = 1) { errors += count }

    /// One submission answered (whatever the answer) after `micros`.
    func answered(after micros: Int64) {
        requests += 1
        latencies.append(micros)
    }

    func reportEverySecond(started: Int64) async {
        var last = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let elapsed = Double(Clock.micros() - started) / 1_000_000
            print(
                "[\(String(format: "%6.1f", elapsed))s] accepted \(accepted)/\(total) (+\(accepted - last)/s) refused \(refusedBy.values.reduce(0, +)) errors \(errors)"
            )
            last = accepted
        }
    }

    /// One JSON line. `submission_latency_ms` is over every answered submission (exact,
    /// nearest rank); `requests_per_second` counts submissions, `accepted_per_second` messages
    /// (= recipients: every generated message has one).
    func summary(elapsed: Double, mode: String) -> String {
        let refused = refusedBy.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        let seconds = max(elapsed, 0.001)
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "null" }
            let rank = max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return String(format: "%.2f", Double(sorted[rank]) / 1000)
        }
        return """
            {"mode":"\(mode)","messages":\(total),"accepted":\(accepted),"refused":{\(refused)},"errors":\(errors),\
            "requests":\(requests),"seconds":\(String(format: "%.3f", elapsed)),\
            "accepted_per_second":\(String(format: "%.1f", Double(accepted) / seconds)),\
            "requests_per_second":\(String(format: "%.1f", Double(requests) / seconds)),\
            "submission_latency_ms":{"p50":\(percentile(0.5)),"p90":\(percentile(0.9)),"p99":\(percentile(0.99)),"max":\(percentile(1))}}
            """
    }
}
