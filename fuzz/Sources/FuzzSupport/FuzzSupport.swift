/// Helpers shared by the libFuzzer targets in `fuzz/` (see the README, "Fuzzing").
///
/// A target checks properties of ``SMTPProtocol`` beyond "does not crash"; a broken
/// property is reported with ``fuzzFailure(_:)``, which traps, so libFuzzer stops, prints
/// the message and saves the input as a crash artifact.

import CLibFuzzer

#if canImport(Glibc)
import Glibc
#endif

/// Runs libFuzzer with the process's arguments and `testOneInput`, then exits.
///
/// Each target's `@main` calls this: SwiftPM links an executable with `main` renamed to
/// its own entry point, which a target without one lacks, so libFuzzer's `main` cannot
/// be used; its driver can.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// Stops the fuzzer: a property does not hold for the current input.
public func fuzzFailure(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("fuzz property violated: \(message())", file: file, line: line)
}

/// Checks a property of the current input.
@inline(__always)
public func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    if !condition {
        fuzzFailure(message(), file: file, line: line)
    }
}

/// The input as an array (libFuzzer may pass a null pointer for an empty input).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
    guard let data, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: count))
}

/// A small deterministic generator (SplitMix64), seeded from the input itself, so that a
/// crash artifact replays with the same chunking.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    /// Seeds from the FNV-1a hash of `bytes`.
    public init(hashing bytes: [UInt8]) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        self.state = hash
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Splits `bytes` into pieces of random lengths (1 to `maximum` octets).
public func randomPieces(of bytes: [UInt8], maximum: Int, using generator: inout SplitMix64) -> [ArraySlice<UInt8>] {
    var pieces: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        let length = Int.random(in: 1...maximum, using: &generator)
        let end = min(bytes.count, start + length)
        pieces.append(bytes[start..<end])
        start = end
    }
    return pieces
}

/// Whether every CR in `bytes` is followed by LF and every LF preceded by CR; a CR as the
/// very last octet is allowed when `allowTrailingCR` (its LF may still be coming).
public func hasOnlyCRLFLineEnds(_ bytes: [UInt8], allowTrailingCR: Bool = false) -> Bool {
    for (index, byte) in bytes.enumerated() {
        if byte == 0x0D {
            if index + 1 < bytes.count {
                if bytes[index + 1] != 0x0A { return false }
            } else if !allowTrailingCR {
                return false
            }
        } else if byte == 0x0A, index == 0 || bytes[index - 1] != 0x0D {
            return false
        }
    }
    return true
}

/// A readable rendering of bytes for failure messages.
public func show(_ bytes: some Sequence<UInt8>) -> String {
    String(decoding: Array(bytes), as: UTF8.self).debugDescription
}
