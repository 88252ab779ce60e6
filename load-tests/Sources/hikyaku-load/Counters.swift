import Foundation

/// Shared counters: which message number is next, and how submissions went.
actor Counters {
    let total: Int
    private var nextSeq = 0
    private(set) var accepted = 0
    private var refusedByCode: [Int: Int] = [:]
    private var errors = 0

    init(total: Int) { self.total = total }

    /// The next message number, or nil when all are handed out.
    func take() -> Int? {
        guard nextSeq < total else { return nil }
        defer { nextSeq += 1 }
        return nextSeq
    }

    func done(code: Int) {
        if code == 250 { accepted += 1 } else { refusedByCode[code, default: 0] += 1 }
    }

    func failed() { errors += 1 }

    func reportEverySecond(started: Int64) async {
        var last = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let elapsed = Double(Clock.micros() - started) / 1_000_000
            print(
                "[\(String(format: "%6.1f", elapsed))s] accepted \(accepted)/\(total) (+\(accepted - last)/s) refused \(refusedByCode.values.reduce(0, +)) errors \(errors)"
            )
            last = accepted
        }
    }

    func summary(elapsed: Double) -> String {
        let refused = refusedByCode.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        return """
            {"messages":\(total),"accepted":\(accepted),"refused":{\(refused)},"errors":\(errors),\
            "seconds":\(String(format: "%.3f", elapsed)),"accepted_per_second":\(String(format: "%.1f", Double(accepted) / max(elapsed, 0.001)))}
            """
    }
}
