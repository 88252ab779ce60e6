/// A read position over the bytes of one command line, used by the grammar parsers.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var index: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.index = 0
    }

    var isAtEnd: Bool {
        self.index >= self.bytes.count
    }

    func peek() -> UInt8? {
        self.isAtEnd ? nil : self.bytes[self.index]
    }

    mutating func next() -> UInt8? {
        guard let byte = self.peek() else { return nil }
        self.index += 1
        return byte
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard self.peek() == byte else { return false }
        self.index += 1
        return true
    }

    /// Consumes `text` (ASCII) compared case-insensitively.
    mutating func consumeCaseInsensitive(_ text: String) -> Bool {
        let expected = Array(text.utf8)
        guard self.bytes.count - self.index >= expected.count else { return false }
        for (offset, byte) in expected.enumerated()
        where ASCII.lowercase(self.bytes[self.index + offset]) != ASCII.lowercase(byte) {
            return false
        }
        self.index += expected.count
        return true
    }

    /// Skips spaces; returns how many were skipped.
    @discardableResult
    mutating func skipSpaces() -> Int {
        var count = 0
        while self.peek() == ASCII.space {
            self.index += 1
            count += 1
        }
        return count
    }

    /// Consumes bytes up to (not including) the next space or the end.
    mutating func readToken() -> ArraySlice<UInt8> {
        let start = self.index
        while let byte = self.peek(), byte != ASCII.space {
            self.index += 1
        }
        return self.bytes[start..<self.index]
    }

    /// The bytes not yet consumed.
    var remaining: ArraySlice<UInt8> {
        self.bytes[self.index...]
    }

    mutating func moveToEnd() {
        self.index = self.bytes.count
    }

    mutating func rewind(to index: Int) {
        self.index = index
    }
}
