import CHiredis
import NIOCore

/// Encodes ``RedisCommand``s into RESP2 with hiredis' `redisFormatCommandArgv`.
///
/// Every command becomes an array of bulk strings (RESP specification, "Sending
/// commands to a Redis server"):
///
/// ```
/// C: *2\r\n$3\r\nGET\r\n$3\r\nkey\r\n
/// ```
///
/// The argument bytes and the `argv`/`argvlen` arrays hiredis needs live in
/// temporary (stack, when small) allocations; hiredis' formatted command is copied
/// into the caller's buffer and freed at once, so a whole pipeline lands in one
/// `ByteBuffer` for one write and one flush.
enum RESPCommandEncoder {
    /// Appends `command`, formatted as RESP, to `buffer`.
    static func encode(_ command: RedisCommand, into buffer: inout ByteBuffer) {
        let argumentCount = command.arguments.count + 1
        var doubleTexts: [String] = []
        var byteCount = command.name.utf8.count
        for argument in command.arguments {
            switch argument {
            case .string(let text):
                byteCount += text.utf8.count
            case .bytes(let bytes):
                byteCount += bytes.readableBytes
            case .integer(let value):
                byteCount += DecimalText.length(of: value)
            case .double(let value):
                let text = String(value)
                byteCount += text.utf8.count
                doubleTexts.append(text)
            }
        }

        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(byteCount, 1)) { storage in
            withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: argumentCount) { argv in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: argumentCount) { lengths in
                    let base = storage.baseAddress!
                    var offset = 0
                    var index = 0
                    func append(_ length: Int) {
                        argv[index] = UnsafeRawPointer(base + offset).assumingMemoryBound(to: CChar.self)
                        lengths[index] = length
                        offset += length
                        index += 1
                    }

                    append(copy(command.name, to: base + offset))
                    var doubleIndex = 0
                    for argument in command.arguments {
                        switch argument {
                        case .string(let text):
                            append(copy(text, to: base + offset))
                        case .bytes(let bytes):
                            append(
                                bytes.withUnsafeReadableBytes { source in
                                    UnsafeMutableRawBufferPointer(start: base + offset, count: source.count)
                                        .copyMemory(from: source)
                                    return source.count
                                }
                            )
                        case .integer(let value):
                            append(DecimalText.write(value, to: base + offset))
                        case .double:
                            append(copy(doubleTexts[doubleIndex], to: base + offset))
                            doubleIndex += 1
                        }
                    }

                    var formatted: UnsafeMutablePointer<CChar>?
                    let length = redisFormatCommandArgv(
                        &formatted,
                        Int32(argumentCount),
                        argv.baseAddress,
                        lengths.baseAddress
                    )
                    guard length >= 0, let formatted else {
                        fatalError("hiredis could not format a Redis command (out of memory)")
                    }
                    defer { redisFreeCommand(formatted) }
                    buffer.writeBytes(UnsafeRawBufferPointer(start: formatted, count: Int(length)))
                }
            }
        }
    }

    /// Appends every command to `buffer`, in order.
    static func encode(_ commands: [RedisCommand], into buffer: inout ByteBuffer) {
        for command in commands {
            encode(command, into: &buffer)
        }
    }

    /// Copies the UTF-8 bytes of `text` to `destination`; returns how many.
    private static func copy(_ text: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        let utf8 = text.utf8
        if let count = utf8.withContiguousStorageIfAvailable({ source -> Int in
            guard let sourceBase = source.baseAddress else { return 0 }
            destination.update(from: sourceBase, count: source.count)
            return source.count
        }) {
            return count
        }
        var count = 0
        for byte in utf8 {
            destination[count] = byte
            count += 1
        }
        return count
    }
}

/// Decimal text of integers without going through `String`.
enum DecimalText {
    static func length(of value: Int64) -> Int {
        var magnitude = value.magnitude
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return value < 0 ? digits + 1 : digits
    }

    /// Writes `value` in decimal to `destination`; returns the byte count.
    static func write(_ value: Int64, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        let count = length(of: value)
        var magnitude = value.magnitude
        var position = count
        repeat {
            position -= 1
            destination[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            destination[0] = UInt8(ascii: "-")
        }
        return count
    }
}
