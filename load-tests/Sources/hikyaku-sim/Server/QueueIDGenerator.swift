import Synchronization

/// Ids for accepted messages, `<process tag>.<serial>` (e.g. `k3f9.1042`), unique within a
/// run and across restarts of the simulator; they appear in the `250` reply and the record.
final class QueueIDGenerator: Sendable {
    private let tag: String
    private let serial = Atomic<Int>(0)

    init(tag: String = String(UInt32.random(in: 0...UInt32.max), radix: 36)) {
        self.tag = tag
    }

    func next() -> String {
        let serial = self.serial.add(1, ordering: .relaxed).newValue
        return "\(self.tag).\(serial)"
    }
}
