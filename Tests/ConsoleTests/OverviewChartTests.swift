import Foundation
import Testing

@testable import Console

struct OverviewChartTests {
    @Test(
        arguments: [
            (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (5, [0, 1, 2, 3, 4, 5]), (7, [0, 2, 4, 6, 8]),
            (1000, [0, 200, 400, 600, 800, 1000]), (1001, [0, 500, 1000, 1500]), (23_456, [0, 5000, 10_000, 15_000, 20_000, 25_000]),
        ])
    func theAxisEndsAtTheFirstNiceValueNotBelowTheMaximum(maximum: Int, expected: [Int]) {
        #expect(OverviewChart.ticks(maximum: maximum) == expected)
    }

    static func rectHeights(_ svg: String) -> [Int] {
        let pattern = try! NSRegularExpression(pattern: #"<rect class="bar"[^>]* height="(\d+)""#)
        let range = NSRange(svg.startIndex..., in: svg)
        return pattern.matches(in: svg, range: range).map { Int(svg[Range($0.range(at: 1), in: svg)!])! }
    }

    static func bars(_ counts: [Int]) -> [OverviewChart.Bar] {
        counts.enumerated().map { .init(label: "\($0.offset)時", delivered: $0.element, bounced: 0, deferred: 0) }
    }

    @Test func threeEventsFillTheChartsHeight() {
        let svg = OverviewChart.hourly(Self.bars(Array(repeating: 0, count: 23) + [3]), title: "t")
        #expect(Self.rectHeights(svg) == [166], "the one hour with events reaches the top of the axis (0…3)")
        #expect(svg.contains(#"class="y-label""#) && svg.contains(">3</text>") && svg.contains(">0</text>"))
        #expect(svg.contains(">0時</text>") && svg.contains(">21時</text>"))
    }

    @Test func oneEventBesideThousandsIsStillVisible() {
        let svg = OverviewChart.hourly(
            [.init(label: "a", delivered: 5000, bounced: 1, deferred: 0), .init(label: "b", delivered: 1, bounced: 0, deferred: 1)],
            title: "t")
        let heights = Self.rectHeights(svg)
        #expect(heights.count == 4)
        #expect(heights.allSatisfy { $0 >= OverviewChart.minimumSegment })
        #expect(heights.reduce(0, +) <= 2 * 166, "stacks never overflow the plot")
    }

    @Test func repeatedFieldsKeepEveryValueInOrder() {
        #expect(FormData.parseAll("event=delivered&event=bounced&url=x").map(\.1) == ["delivered", "bounced", "x"])
        #expect(FormData.parse("a=1&a=2")["a"] == "1")
    }
}
