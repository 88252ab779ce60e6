import Glibc

/// A glibc iconv conversion descriptor from UTF-8, closed when the value goes away.
///
/// Strict: no `//TRANSLIT`, so a character the target charset lacks is reported (EILSEQ),
/// never replaced or dropped.
final class Iconv {
    private let descriptor: iconv_t

    /// Nil when glibc has no converter for `target`.
    init?(to target: String) {
        let descriptor = iconv_open(target, "UTF-8")
        guard let descriptor, Int(bitPattern: descriptor) != -1 else { return nil }
        self.descriptor = descriptor
    }

    deinit { iconv_close(descriptor) }

    enum Outcome: Equatable {
        case converted([UInt8])
        /// The input has no representation at this UTF-8 byte offset.
        case unconvertible(offset: Int)
    }

    /// Converts a whole string from the initial shift state and returns to it at the end, so
    /// stateful output (ISO-2022-JP) starts and ends in ASCII (RFC 1468).
    func convert(_ text: String) -> Outcome {
        var input = Array(text.utf8)
        // ISO-2022-JP needs at most 3 escape bytes plus 2 per 3-byte input character; grown on E2BIG anyway.
        var output = [UInt8](repeating: 0, count: input.count * 3 + 16)
        var produced = 0
        _ = iconv(descriptor, nil, nil, nil, nil)
        var consumed = 0
        while true {
            let (status, error, read, written) = input.withUnsafeMutableBufferPointer { inputBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    step(inputBuffer, from: consumed, into: outputBuffer, at: produced)
                }
            }
            consumed += read
            produced += written
            if status != -1 { break }
            if error == E2BIG {
                output += [UInt8](repeating: 0, count: output.count)
                continue
            }
            return .unconvertible(offset: consumed)
        }
        return .converted(Array(output[..<produced]))
    }

    /// One iconv call over the rest of the input (or, at its end, the flush back to the
    /// initial state); returns the status, errno, and bytes read and written.
    private func step(
        _ input: UnsafeMutableBufferPointer<UInt8>, from consumed: Int, into output: UnsafeMutableBufferPointer<UInt8>,
        at produced: Int
    ) -> (Int, Int32, Int, Int) {
        var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(output.baseAddress! + produced)
            .assumingMemoryBound(to: CChar.self)
        var outLeft = output.count - produced
        let outStart = outLeft
        if consumed == input.count {
            let status = iconv(descriptor, nil, nil, &outPointer, &outLeft)
            return (status, errno, 0, outStart - outLeft)
        }
        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(input.baseAddress! + consumed)
            .assumingMemoryBound(to: CChar.self)
        var inLeft = input.count - consumed
        let inStart = inLeft
        var status = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
        let error = errno
        if status != -1 {
            // Input done: flush the shift state (ESC ( B for ISO-2022-JP).
            status = iconv(descriptor, nil, nil, &outPointer, &outLeft)
            return (status, errno, inStart - inLeft, outStart - outLeft)
        }
        return (status, error, inStart - inLeft, outStart - outLeft)
    }
}
