import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import SMTPClient

/// ``SMTPClientConnection/sendData(_:)`` with content read from storage a piece at a time:
/// dot-stuffing carried across pieces, one piece read per write, a failed read never ends
/// the data with the dot.
@Suite struct MessageContentTests {
    static let remote = try! SocketAddress(ipAddress: "192.0.2.25", port: 25)

    func connection() async throws -> (SMTPClientConnection, NIOAsyncTestingChannel) {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: Self.remote)
        return (try await SMTPClientConnection.wrapping(channel, remoteAddress: Self.remote, commandTimeout: .seconds(30)), channel)
    }

    /// Every write the client made until the end-of-data mark, joined.
    func dataWrites(_ channel: NIOAsyncTestingChannel) async throws -> [String] {
        var writes: [String] = []
        while writes.last?.hasSuffix("\r\n.\r\n") != true {
            writes.append(String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self)))
        }
        return writes
    }

    @Test func storedPiecesAreReadInTurnAndStuffedAcrossTheirSeams() async throws {
        let (connection, channel) = try await connection()
        // A line starting with a dot right at each seam, and a CRLF split by one.
        let stored = Array("Subject: x\r\n\r\nab\r\n.c\r\n.d\r\n.\r\nend\r\n".utf8)
        let reads = Mutex<[Range<Int>]>([])
        let content = MessageContent(
            pieces: [ByteBuffer(string: "DKIM-Signature: v=1\r\n"), ByteBuffer(bytes: stored[..<4])],
            thenStored: stored.count - 4, from: 4, pieceSize: 7
        ) { offset, count in
            reads.withLock { $0.append(offset..<(offset + count)) }
            return ByteBuffer(bytes: stored[offset..<min(offset + count, stored.count)])
        }
        #expect(content.size == 21 + stored.count)
        let reply = Task { try await connection.sendData(content) }
        let writes = try await dataWrites(channel)
        #expect(writes.joined() == "DKIM-Signature: v=1\r\nSubject: x\r\n\r\nab\r\n..c\r\n..d\r\n..\r\nend\r\n.\r\n")
        #expect(writes.count == 1 + (stored.count - 4 + 6) / 7, "one write per piece read, and the first one")
        #expect(reads.withLock { $0 } == stride(from: 4, to: stored.count, by: 7).map { $0..<min($0 + 7, stored.count) })
        try await channel.writeInbound(ByteBuffer(string: "250 2.0.0 queued\r\n"))
        #expect(try await reply.value.code == 250)
    }

    @Test func aPieceThatCannotBeReadClosesTheConnectionWithoutTheDot() async throws {
        let (connection, channel) = try await connection()
        let content = MessageContent(pieces: [ByteBuffer(string: "Subject: x\r\n\r\n")], thenStored: 100, from: 14, pieceSize: 64) {
            offset, count in
            // The message is gone: fewer octets than asked for.
            ByteBuffer(string: offset == 14 ? String(repeating: "a", count: count) : "")
        }
        let reply = Task { try await connection.sendData(content) }
        await #expect(throws: SMTPClientError.self) { try await reply.value }
        var sent = ""
        while let write = try await channel.readOutbound(as: ByteBuffer.self) { sent += String(buffer: write) }
        #expect(!sent.hasSuffix(".\r\n"))
        #expect(sent.hasPrefix("Subject: x\r\n\r\naaaa"))
        #expect(!channel.isActive)
    }
}
