import Foundation
import Testing

@testable import hikyaku_sim

@Suite struct SimRecordTests {
    static func parse(_ record: SimRecord) throws -> [String: Any] {
        let line = record.jsonLine
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        return try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
    }

    @Test func acceptedRecordHasEveryField() throws {
        let object = try Self.parse(
            .accepted(
                SimRecord.Accepted(
                    time: 1_718_000_000_123_456, site: "gmail-like", clientIP: "127.0.0.5", serverIP: "127.0.1.1", id: "k.1",
                    sender: "", recipients: ["a@gmail.sim", "b@gmail.sim"], messageID: "<q\"uo\\te\u{1}@x>", sequence: nil,
                    size: 1024, tls: true)))
        #expect(object["t"] as? Int == 1_718_000_000_123_456)
        #expect(object["site"] as? String == "gmail-like")
        #expect(object["ip"] as? String == "127.0.0.5")
        #expect(object["mx"] as? String == "127.0.1.1")
        #expect(object["id"] as? String == "k.1")
        #expect(object["from"] as? String == "")
        #expect(object["rcpt"] as? [String] == ["a@gmail.sim", "b@gmail.sim"])
        #expect(object["message_id"] as? String == "<q\"uo\\te\u{1}@x>")
        #expect(object["seq"] is NSNull)
        #expect(object["size"] as? Int == 1024)
        #expect(object["tls"] as? Bool == true)
        #expect(object["refused"] == nil)
    }

    @Test func refusedRecordIsMarked() throws {
        let object = try Self.parse(
            .refused(
                SimRecord.Refused(
                    time: 1, site: "s", clientIP: "127.0.0.5", serverIP: "127.0.1.1", sender: "a@x", recipient: "日本@b.sim",
                    reason: .rateLimit, reply: "421 4.7.28 rate limited")))
        #expect(object["refused"] as? Bool == true)
        #expect(object["reason"] as? String == "rate_limit")
        #expect(object["reply"] as? String == "421 4.7.28 rate limited")
        #expect(object["rcpt"] as? String == "日本@b.sim")
        #expect(object["message_id"] == nil)
    }

    @Test func recorderAppendsLinesAndFlushes() throws {
        let path = NSTemporaryDirectory() + "sim-recorder-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "existing\n".write(toFile: path, atomically: false, encoding: .utf8)
        let recorder = try Recorder(path: path)
        let record = SimRecord.refused(
            SimRecord.Refused(time: 1, site: "s", clientIP: "c", serverIP: "m", sender: "", recipient: "r", reason: .dropped, reply: ""))
        recorder.append(record)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "existing\n")
        #expect(try recorder.flush() == record.jsonLine.count)
        recorder.append(record)
        recorder.close()
        recorder.append(record)
        #expect(try recorder.flush() == 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "existing")
    }
}
