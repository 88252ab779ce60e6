import HikyakuApp
import RelayCore

/// The human form of a `QueueReport`: one table per pool, then suspensions, slow-downs
/// and connection leases.
enum QueueReportText {
    static func render(_ report: QueueReport, hidden: [PoolName: Int] = [:]) -> String {
        let now = report.time
        var out: [String] = ["Queue at \(WallClock.iso8601(milliseconds: now))"]
        if report.pools.isEmpty { out.append("\nNo pools: nothing has been queued.") }
        for pool in report.pools {
            out.append("\nPool \(pool.pool): \(pool.depth) recipient(s) not yet final")
            if pool.destinations.isEmpty {
                out.append("  nothing queued or deferred")
                continue
            }
            var table = TextTable([
                ("DOMAIN", .left), ("QUEUED", .right), ("CLAIMED", .right), ("DEFERRED", .right),
                ("RCPTS", .right), ("NEXT RETRY", .left), ("READY", .left),
            ])
            for destination in pool.destinations {
                table.add([
                    destination.domain.rawValue, "\(destination.queued)", "\(destination.claimed)", "\(destination.deferredItems)",
                    "\(destination.deferredRecipients)",
                    destination.nextRetryAt.map { DisplayTime.relative($0, now: now) } ?? "-",
                    destination.readyAt.map { DisplayTime.relative($0, now: now) } ?? "-",
                ])
            }
            out.append(table.render())
            if let more = hidden[pool.pool] { out.append("  … and \(more) more destination(s)") }
        }

        out.append("\nSuspensions")
        if report.suspensions.isEmpty {
            out.append("  none")
        } else {
            var table = TextTable([("TARGET", .left), ("LEFT", .right), ("RULE", .left), ("BY", .left), ("REASON", .left)])
            for suspension in report.suspensions {
                table.add([
                    suspension.target.description, DisplayTime.span(milliseconds: suspension.remainingMilliseconds),
                    suspension.rule ?? "-", suspension.node ?? "-", suspension.reason ?? "-",
                ])
            }
            out.append(table.render())
        }

        out.append("\nSlow-downs")
        if report.slowdowns.isEmpty {
            out.append("  none")
        } else {
            var table = TextTable([("IP", .left), ("SITE", .left), ("RATE", .right), ("LEFT", .right)])
            for slowdown in report.slowdowns {
                table.add([
                    slowdown.ip.rawValue, slowdown.site.rawValue, "x\(formatFactor(slowdown.factor))",
                    DisplayTime.span(milliseconds: slowdown.remainingMilliseconds),
                ])
            }
            out.append(table.render())
        }

        out.append("\nConnection leases in use")
        if report.leases.isEmpty {
            out.append("  none")
        } else {
            var table = TextTable([("IP", .left), ("SITE", .left), ("IN USE", .right)])
            for lease in report.leases { table.add([lease.ip.rawValue, lease.site.rawValue, "\(lease.inUse)"]) }
            out.append(table.render())
        }
        return out.joined(separator: "\n")
    }

    /// `0.5`, `0.25`, `0.125`: at most three decimals, no trailing zeros.
    private static func formatFactor(_ factor: Double) -> String {
        let thousandths = Int((factor * 1000).rounded())
        var text = "\(thousandths / 1000)"
        var fraction = thousandths % 1000
        if fraction != 0 {
            var digits = ""
            for _ in 0..<3 {
                digits += "\(fraction / 100)"
                fraction = fraction % 100 * 10
            }
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text
    }
}
