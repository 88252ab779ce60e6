import NIOCore
import Testing

@testable import Ingest

struct MessageAssemblerTests {
    static let received = "Received: from x ([127.0.0.1])\r\n\tby relay (Hikyaku) with ESMTP id Q; date\r\n"

    func assemble(_ parts: [String]) -> (String, String?) {
        var assembler = MessageAssembler(receivedHeader: Self.received, generatedMessageID: "<gen@relay>")
        var out = ""
        for part in parts {
            assembler.append(ByteBuffer(string: part))
            if assembler.canFlush { out += String(buffer: assembler.takePending()) }
        }
        assembler.finish()
        out += String(buffer: assembler.canFlush ? assembler.takePending() : assembler.pending)
        return (out, assembler.messageID)
    }

    @Test func addsAMessageIDWhenTheHeaderHasNone() {
        let (out, id) = assemble(["Subject: hi\r\n", "\r\nbody\r\n"])
        #expect(out == Self.received + "Message-ID: <gen@relay>\r\nSubject: hi\r\n\r\nbody\r\n")
        #expect(id == "<gen@relay>")
    }

    @Test func keepsTheClientsMessageIDEvenWhenSplitAcrossChunks() {
        let (out, id) = assemble(["Subject: hi\r\nMessage-", "Id:\r\n <abc@app>\r\n\r", "\nbody\r\n"])
        #expect(out == Self.received + "Subject: hi\r\nMessage-Id:\r\n <abc@app>\r\n\r\nbody\r\n")
        #expect(id == "<abc@app>")
    }

    @Test func aMessageIDInTheBodyDoesNotCount() {
        let (out, id) = assemble(["Subject: hi\r\n\r\nMessage-ID: <not@header>\r\n"])
        #expect(out.hasPrefix(Self.received + "Message-ID: <gen@relay>\r\n"))
        #expect(id == "<gen@relay>")
    }

    @Test func aMessageWithoutHeadersGetsOnlyTheTraceAndID() {
        let (out, _) = assemble(["\r\njust a body\r\n"])
        #expect(out == Self.received + "Message-ID: <gen@relay>\r\n\r\njust a body\r\n")
    }

    @Test func bodyBytesPassThroughUnchangedOnceHeadersAreSettled() {
        var assembler = MessageAssembler(receivedHeader: Self.received, generatedMessageID: "<g@r>")
        assembler.append(ByteBuffer(string: "Message-ID: <a@b>\r\n\r\n"))
        #expect(assembler.canFlush)
        _ = assembler.takePending()
        assembler.append(ByteBuffer(bytes: [0, 255, 13, 10, 46]))
        #expect(Array(assembler.takePending().readableBytesView) == [0, 255, 13, 10, 46])
    }
}
