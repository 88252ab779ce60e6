import CampaignRunner
import Campaigns
import Foundation
import HikyakuApp
import RelayCore

/// The text of `campaign show` and `campaign watch`.
enum CampaignProgress {
    static let outcomes = ["delivered", "deferred", "bounced", "expired", "complaint", "unsubscribed"]

    static func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((min(max(fraction, 0), 1) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    static func text(_ status: CampaignDesk.Status, width: Int, eta: Double?) -> String {
        let s = status.statistics
        let c = status.campaign
        let rows = max(status.rows, 1)
        let done = status.settled
        let handled = status.handled
        var lines = [
            "campaign \(c.id) \"\(c.name)\" (account \(c.account), list \(c.list)): \(status.state)"
                + (status.reason.map { " — \($0)" } ?? ""),
            "  enqueued  \(bar(Double(handled) / Double(rows), width: width)) \(handled)/\(status.rows) (cursor \(status.cursor))",
            "  settled   \(bar(Double(done) / Double(rows), width: width)) \(done)/\(status.rows) \(String(format: "%.1f%%", 100 * Double(done) / Double(rows)))",
            "  queued \(s["queued"] ?? 0)  delivered \(s["delivered"] ?? 0)  deferred \(s["deferred"] ?? 0)  bounced \(s["bounced"] ?? 0)  expired \(s["expired"] ?? 0)  suppressed \(s["suppressed"] ?? 0)  failed \(s["failed"] ?? 0)  complaints \(s["complaint"] ?? 0)  unsubscribed \(s["unsubscribed"] ?? 0)",
        ]
        if let window = c.window { lines.append("  window \(window)") }
        if let rate = c.maxRate { lines.append("  max rate \(rate)") }
        if let eta { lines.append("  estimated finish in \(DisplayTime.span(milliseconds: Int64(eta * 1000)))") }
        let sites = status.sites
        if !sites.isEmpty {
            var table = TextTable([("SITE", .left)] + outcomes.prefix(4).map { ($0.uppercased(), TextTable.Alignment.right) })
            for (site, counts) in sites.sorted(by: { $0.key < $1.key }) {
                table.add([site] + outcomes.prefix(4).map { "\(counts[$0] ?? 0)" })
            }
            lines.append(table.render(indent: 2))
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ status: CampaignDesk.Status) -> String {
        let object: [String: Any] = [
            "id": status.campaign.id, "account": status.campaign.account, "name": status.campaign.name, "list": status.campaign.list,
            "state": status.state, "reason": status.reason as Any, "rows": status.rows, "cursor": status.cursor,
            "statistics": status.statistics,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
