import NIOCore
import Testing

@testable import Ingest

struct LoopDetectionTests {
    @Test func moreThanTheLimitIsRefusedWith554_5_4_6() {
        #expect(LoopDetection.refusal(receivedFields: 30, limit: 30) == nil)
        let reply = LoopDetection.refusal(receivedFields: 31, limit: 30)
        #expect(reply?.code == 554)
        #expect(reply?.enhancedStatus?.description == "5.4.6")
    }

    @Test func theAssemblerCountsTheClientsFieldsNotItsOwn() {
        var assembler = MessageAssembler(receivedHeader: "Received: from x\r\n\tby relay; date\r\n", generatedMessageID: "<g@relay>")
        let header = (0..<31).map { "Received: from h\($0); date\r\n" }.joined()
        // Split across chunks, inside a field name.
        let text = header + "Subject: s\r\n\r\nReceived: body\r\n"
        let cut = text.index(text.startIndex, offsetBy: 100)
        assembler.append(ByteBuffer(string: String(text[..<cut])))
        assembler.append(ByteBuffer(string: String(text[cut...])))
        assembler.finish()
        #expect(assembler.receivedFieldCount == 31)
    }
}
