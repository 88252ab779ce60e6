import CHiredis
import NIOCore

/// Turns the bytes a Redis server sends into ``RESPValue``s, with one hiredis
/// `redisReader` per connection.
///
/// Bytes are fed as they arrive; ``next()`` returns complete replies in order and
/// `nil` while the next reply is still partial (hiredis answers `REDIS_OK` with no
/// reply then). hiredis 0.14 nests arrays at most 7 deep and speaks RESP2 only.
///
/// Not thread-safe: a connection's reader lives on its channel's event loop, and
/// every call is pure CPU work (no I/O).
final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    private let allocator: ByteBufferAllocator

    init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        guard let reader = redisReaderCreate() else {
            fatalError("hiredis could not allocate a reader (out of memory)")
        }
        self.reader = reader
        self.allocator = allocator
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Hands bytes to the reader (hiredis copies them into its own buffer).
    func feed(_ buffer: ByteBuffer) throws(RedisError) {
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard status == REDIS_OK else {
            throw .protocolError(errorText)
        }
    }

    /// The next complete reply, or `nil` if more bytes are needed.
    func next() throws(RedisError) -> RESPValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else {
            throw .protocolError(errorText)
        }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return try value(of: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func value(of reply: UnsafePointer<redisReply>) throws(RedisError) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            var buffer = allocator.buffer(capacity: node.len)
            buffer.writeBytes(UnsafeRawBufferPointer(start: node.str, count: node.len))
            return .bulkString(buffer)
        case REDIS_REPLY_STATUS:
            return .simpleString(Self.text(node))
        case REDIS_REPLY_ERROR:
            return .error(Self.text(node))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let element = node.element[index] else {
                    throw .protocolError("hiredis returned an array with a missing element")
                }
                elements.append(try value(of: element))
            }
            return .array(elements)
        default:
            throw .protocolError("unknown hiredis reply type \(node.type)")
        }
    }

    private static func text(_ node: redisReply) -> String {
        String(decoding: UnsafeRawBufferPointer(start: node.str, count: node.len), as: UTF8.self)
    }

    /// hiredis' `errstr` (a `char[128]`).
    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { bytes in
            let text = bytes.prefix { $0 != 0 }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
