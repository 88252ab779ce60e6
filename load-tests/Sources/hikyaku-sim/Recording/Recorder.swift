import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends records to a JSON Lines file. Event loops only add bytes to a buffer in memory;
/// ``flush()`` (called every ``SimDefaults/flushIntervalMilliseconds`` by ``RecordFlusher``
/// off the event loops, and at shutdown) writes them, so a runner can count arrivals live.
/// The file is opened for appending, never truncated.
final class Recorder: Sendable {
    let path: String
    private let pending = Mutex<[UInt8]>([])
    /// The file descriptor, `-1` once closed; the lock also keeps flushes in order.
    private let file: Mutex<Int32>

    init(path: String) throws(SimulatorError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .recordFile(path, String(cString: strerror(errno))) }
        self.path = path
        self.file = Mutex(fd)
    }

    deinit {
        self.close()
    }

    /// Queues a record for the next flush.
    func append(_ record: SimRecord) {
        let line = record.jsonLine
        self.pending.withLock { $0.append(contentsOf: line) }
    }

    /// Writes every queued record; returns the number of bytes written.
    @discardableResult
    func flush() throws(SimulatorError) -> Int {
        let result: Result<Int, SimulatorError> = self.file.withLock { fd in
            let bytes = self.pending.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            guard fd >= 0 else { return .success(0) }
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    return .failure(.recordFile(self.path, String(cString: strerror(errno))))
                }
                written += count
            }
            return .success(written)
        }
        return try result.get()
    }

    /// Flushes and closes the file; later records are dropped.
    func close() {
        _ = try? self.flush()
        self.file.withLock { fd in
            if fd >= 0 {
                closeDescriptor(fd)
                fd = -1
            }
        }
    }
}

/// `close(2)`, out of reach of ``Recorder/close()``'s name.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
