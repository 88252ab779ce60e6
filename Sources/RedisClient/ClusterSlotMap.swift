/// A Redis server's `host:port`.
public struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port` or `[v6]:port`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Which primary serves each hash slot of a Redis Cluster, as `CLUSTER SLOTS` reports it.
///
/// A pure value: the client reads it from one node, then corrects single slots as
/// `MOVED` replies say (a slot moved by resharding or a failover) until the next full read.
struct ClusterSlotMap: Sendable, Equatable {
    /// Every primary that serves at least one slot, in the order first seen.
    private(set) var primaries: [RedisAddress]
    /// For each slot, the index of its primary in `primaries`; -1 when no primary serves it.
    private var owners: [Int16]

    /// A map in which no slot is served.
    init() {
        primaries = []
        owners = Array(repeating: -1, count: HashSlot.count)
    }

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, …], replica…], …]`.
    /// An empty host (a node that does not know its own address) means the node that answered.
    ///
    /// - Throws: ``RedisError/Kind/protocolError`` for a reply of another shape.
    init(slotsReply reply: RESPValue, answeredBy node: RedisAddress) throws(RedisError) {
        self.init()
        guard let ranges = reply.array else { throw .protocolError("CLUSTER SLOTS answered \(reply) (expected an array)") }
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                let first = HashSlot(Int(start)), let last = HashSlot(Int(end)), first <= last,
                let primary = fields[2].array, primary.count >= 2, let host = primary[0].string, let port = primary[1].int,
                (1...65535).contains(port)
            else {
                throw .protocolError("CLUSTER SLOTS sent a malformed slot range: \(range)")
            }
            assign(first.value...last.value, to: RedisAddress(host: host.isEmpty ? node.host : host, port: Int(port)))
        }
    }

    /// The primary serving `slot`, if any.
    func primary(for slot: HashSlot) -> RedisAddress? {
        let owner = owners[slot.value]
        return owner < 0 ? nil : primaries[Int(owner)]
    }

    /// How many slots have no primary (a cluster that is down or still being created).
    var unservedSlotCount: Int { owners.lazy.filter { $0 < 0 }.count }

    /// Records that `slot` is now served by `address` (a `MOVED` reply).
    mutating func move(_ slot: HashSlot, to address: RedisAddress) {
        assign(slot.value...slot.value, to: address)
    }

    private mutating func assign(_ slots: ClosedRange<Int>, to address: RedisAddress) {
        let index: Int
        if let known = primaries.firstIndex(of: address) {
            index = known
        } else {
            index = primaries.count
            primaries.append(address)
        }
        for slot in slots { owners[slot] = Int16(index) }
    }
}

/// A cluster node's answer that the key's slot is elsewhere (Redis Cluster specification,
/// "Redirection and resharding"): `MOVED 3999 10.0.0.12:6379` — the slot has moved for
/// good, ask there from now on —, or `ASK 3999 10.0.0.12:6379` — the slot is being moved
/// and this key may already be there: send `ASKING` then the command to that node, this
/// once, without updating the map.
struct ClusterRedirect: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case moved
        case ask
    }

    var kind: Kind
    var slot: HashSlot
    var address: RedisAddress

    /// Parses an error reply; `nil` when it is not a redirection. A target without a host
    /// (`MOVED 3999 :6380`, the node does not know the address clients use) is on the host
    /// of `node`, the node that answered.
    init?(errorMessage message: String, answeredBy node: RedisAddress) {
        let words = message.split(separator: " ")
        guard words.count == 3 else { return nil }
        switch words[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        guard let number = Int(words[1]), let slot = HashSlot(number), let colon = words[2].lastIndex(of: ":"),
            let port = Int(words[2][words[2].index(after: colon)...]), (1...65535).contains(port)
        else {
            return nil
        }
        var host = String(words[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.slot = slot
        self.address = RedisAddress(host: host.isEmpty ? node.host : host, port: port)
    }
}
