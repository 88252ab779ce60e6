/// One of Redis Cluster's 16,384 hash slots: where a key lives.
///
/// The slot is `CRC16(key) mod 16384` (CRC-16/XMODEM: polynomial 0x1021, initial value 0),
/// computed over the key's *hash tag* when it has one: the bytes between the first `{` and
/// the first `}` after it, if there is at least one byte between them. So `hk:{q1}:msg:7`
/// and `hk:{q1}:events` share the slot of `q1`, which lets one function touch both
/// (Redis Cluster specification, "Hash tags"; https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/).
public struct HashSlot: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// How many slots a cluster has.
    public static let count = 16_384

    /// 0 ..< 16384.
    public let value: Int

    public init?(_ value: Int) {
        guard (0..<Self.count).contains(value) else { return nil }
        self.value = value
    }

    /// The slot of a key.
    public init(key: some Collection<UInt8>) {
        self.value = Int(Self.crc16(Self.hashedPart(of: key)) & 0x3FFF)
    }

    public init(key: String) {
        self.init(key: Array(key.utf8))
    }

    public static func < (lhs: HashSlot, rhs: HashSlot) -> Bool { lhs.value < rhs.value }

    public var description: String { "slot \(value)" }

    /// The hash tag's bytes when the key has a non-empty one, else the whole key.
    static func hashedPart<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return key[...] }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else { return key[...] }
        return key[afterOpen..<close]
    }

    /// CRC-16/XMODEM, bit by bit: keys are short and a table would be 512 bytes of
    /// constants for no measurable gain at a few slot lookups per command.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}
