import Foundation
import Synchronization

/// Appends one JSON line per message to a file (buffered; written in blocks).
final class Recorder: Sendable {
    private let handle: FileHandle
    private let buffer = Mutex<[UInt8]>([])

    init(path: String) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw MixError(description: "cannot write --record file \(path)")
        }
        self.handle = handle
    }

    func add(seq: Int, recipient: String, submitted: Int64, accepted: Int64, code: Int, queueID: String?) {
        let id = queueID.map { "\"\($0)\"" } ?? "null"
        let line =
            "{\"seq\":\(seq),\"recipient\":\"\(recipient)\",\"submitted_us\":\(submitted),\"accepted_us\":\(accepted),\"code\":\(code),\"queue_id\":\(id)}\n"
        let full: [UInt8]? = buffer.withLock { bytes in
            bytes.append(contentsOf: line.utf8)
            guard bytes.count > 64 * 1024 else { return nil }
            defer { bytes.removeAll(keepingCapacity: true) }
            return bytes
        }
        if let full { handle.write(Data(full)) }
    }

    func close() throws {
        let rest = buffer.withLock { bytes in
            defer { bytes = [] }
            return bytes
        }
        if !rest.isEmpty { handle.write(Data(rest)) }
        try handle.close()
    }
}
