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

    /// `code` is 250 for an accepted message in either mode (what the runner counts as
    /// accepted), else the refusal's SMTP code or HTTP status (0: no answer); HTTP mode adds
    /// `http_status` and, for an item a batch refused, its `error` code.
    func add(
        seq: Int, recipient: String, submitted: Int64, accepted: Int64, code: Int, queueID: String?, httpStatus: Int? = nil,
        error: String? = nil
    ) {
        let id = queueID.map { "\"\($0)\"" } ?? "null"
        var line =
            "{\"seq\":\(seq),\"recipient\":\"\(recipient)\",\"submitted_us\":\(submitted),\"accepted_us\":\(accepted),\"code\":\(code),\"queue_id\":\(id)"
        if let httpStatus { line += ",\"http_status\":\(httpStatus)" }
        if let error { line += ",\"error\":\"\(error)\"" }
        line += "}\n"
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
