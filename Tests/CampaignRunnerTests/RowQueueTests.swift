import Testing

@testable import CampaignRunner

struct RowQueueTests {
    @Test func takesInOrderPutsBackFirstAndCompacts() {
        var queue = RowQueue()
        for row in 0..<10_000 { queue.append(row) }
        #expect(queue.take(3) == [0, 1, 2])
        queue.putBack(2)
        #expect(queue.first == 2 && queue.count == 9_998)
        #expect(queue.take(6_000).count == 6_000)  // compacts past the head
        #expect(queue.first == 6_002 && queue.count == 3_998)
        #expect(queue.take(0).isEmpty)
        #expect(queue.take(10_000).last == 9_999)
        #expect(queue.isEmpty && queue.first == nil)
        queue.putBack(7)
        #expect(queue.take(5) == [7])
    }
}
