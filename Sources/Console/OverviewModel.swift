import LogStore

/// The overview's figures from ``StatsRow``s: totals over a period, the rates derived from
/// them, and an hourly series for the chart.
public struct OutcomeTotals: Sendable, Equatable {
    public var accepted = 0, delivered = 0, deferred = 0, bounced = 0, expired = 0, complaints = 0

    public init() {}

    public mutating func add(_ row: StatsRow) {
        accepted += row.accepted
        delivered += row.delivered
        deferred += row.deferred
        bounced += row.bounced
        expired += row.expired
        complaints += row.complaints
    }

    /// Recipients with a final outcome: the denominator of the rates.
    public var finished: Int { delivered + bounced + expired }
    /// 到達率: delivered of finished (nil with nothing finished).
    public var deliveryRate: Double? { finished == 0 ? nil : Double(delivered) / Double(finished) }
    /// Bounced (and expired) of finished, against ``bounceLimit``.
    public var bounceRate: Double? { finished == 0 ? nil : Double(bounced + expired) / Double(finished) }
    /// Complaints of delivered, against ``complaintLimit``.
    public var complaintRate: Double? { delivered == 0 ? nil : Double(complaints) / Double(delivered) }

    /// The bulk-sender lines (Gmail and Yahoo's 2024 rules; `accounts.bounce_rate_threshold`
    /// and `complaint_rate_threshold` default to the same).
    public static let bounceLimit = 0.03
    public static let complaintLimit = 0.003

    public static func sum(_ rows: some Sequence<StatsRow>) -> OutcomeTotals {
        var totals = OutcomeTotals()
        for row in rows { totals.add(row) }
        return totals
    }
}

/// Inline SVG, no script: stacked hourly bars and rate gauges. Colours and sizes are
/// fixed; labels come from the caller (already localized), escaped here.
public enum OverviewChart {
    public struct Bar: Sendable {
        public var label: String
        public var delivered: Int, bounced: Int, deferred: Int
        public init(label: String, delivered: Int, bounced: Int, deferred: Int) {
            self.label = label
            self.delivered = delivered
            self.bounced = bounced
            self.deferred = deferred
        }
    }

    static let colours = (delivered: "#2e7d32", bounced: "#c62828", deferred: "#f9a825")

    /// Smallest height (px) of a bar segment with a non-zero count, so one event among
    /// thousands still shows.
    static let minimumSegment = 3

    /// Stacked bars (delivered at the bottom, then deferred, then bounced), one per hour,
    /// on a y axis with ``ticks(maximum:)`` gridlines and labels and an hour label every
    /// third bar. Any non-zero count is at least ``minimumSegment`` high.
    public static func hourly(_ bars: [Bar], title: String) -> String {
        let width = 720, height = 200, top = 12, bottom = 22, left = 40, right = 6
        let grid = "#ddd", axis = "#888"
        let plot = height - top - bottom
        let ticks = Self.ticks(maximum: bars.map { $0.delivered + $0.bounced + $0.deferred }.max() ?? 0)
        let scale = ticks.last ?? 1
        let step = bars.isEmpty ? width - left - right : (width - left - right) / bars.count
        var svg = #"<svg class="chart" role="img" viewBox="0 0 \#(width) \#(height)" xmlns="http://www.w3.org/2000/svg">"#
        svg += "<title>\(escape(title))</title>"
        for tick in ticks {
            let y = top + plot - tick * plot / scale
            svg += #"<line x1="\#(left)" x2="\#(width - right)" y1="\#(y)" y2="\#(y)" stroke="\#(grid)"/>"#
            svg += #"<text class="y-label" x="\#(left - 4)" y="\#(y + 4)" font-size="10" text-anchor="end">\#(tick)</text>"#
        }
        for (index, bar) in bars.enumerated() {
            let x = left + index * step + 2
            var y = top + plot
            for (value, colour) in [(bar.delivered, colours.delivered), (bar.deferred, colours.deferred), (bar.bounced, colours.bounced)]
            where value > 0 {
                let h = min(y - top, max(minimumSegment, value * plot / scale))
                y -= h
                svg +=
                    #"<rect class="bar" x="\#(x)" y="\#(y)" width="\#(max(1, step - 4))" height="\#(h)" fill="\#(colour)"><title>\#(escape(bar.label)): \#(value)</title></rect>"#
            }
            if index % 3 == 0 {
                svg += #"<text class="x-label" x="\#(x)" y="\#(height - 6)" font-size="10">\#(escape(bar.label))</text>"#
            }
        }
        svg += #"<line x1="\#(left)" x2="\#(left)" y1="\#(top)" y2="\#(top + plot)" stroke="\#(axis)"/>"#
        svg += #"<line x1="\#(left)" x2="\#(width - right)" y1="\#(top + plot)" y2="\#(top + plot)" stroke="\#(axis)"/></svg>"#
        return svg
    }

    /// The y axis's labels: 0 up to the smallest "nice" value (1, 2 or 5 × 10ⁿ steps, at
    /// most five of them) not below `maximum`; `[0, 1]` with nothing to show.
    public static func ticks(maximum: Int) -> [Int] {
        guard maximum > 0 else { return [0, 1] }
        var magnitude = 1
        while true {
            for factor in [1, 2, 5] {
                let step = factor * magnitude
                let count = (maximum + step - 1) / step
                if count <= 5 { return (0...count).map { $0 * step } }
            }
            magnitude *= 10
        }
    }

    /// A horizontal gauge of `rate` with a line at `limit`; the scale is twice the limit.
    public static func gauge(rate: Double?, limit: Double, label: String) -> String {
        let width = 240, height = 28
        let scale = limit * 2
        let value = min(rate ?? 0, scale)
        let filled = Int(Double(width) * value / scale)
        let line = Int(Double(width) * limit / scale)
        let colour = (rate ?? 0) > limit ? colours.bounced : colours.delivered
        let track = "#eee", ink = "#000"
        return
            #"<svg class="gauge" role="img" viewBox="0 0 \#(width) \#(height)" width="\#(width)" height="\#(height)" xmlns="http://www.w3.org/2000/svg">"#
            + "<title>\(escape(label))</title>"
            + #"<rect x="0" y="6" width="\#(width)" height="16" fill="\#(track)"/>"#
            + #"<rect x="0" y="6" width="\#(filled)" height="16" fill="\#(colour)"/>"#
            + #"<line x1="\#(line)" x2="\#(line)" y1="0" y2="\#(height)" stroke="\#(ink)" stroke-dasharray="3 2"/></svg>"#
    }

    /// `12.34%`, or `–` without data.
    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "–" }
        let hundredths = Int((rate * 10_000).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)%"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
