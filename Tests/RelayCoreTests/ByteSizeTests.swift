import RelayCore
import Testing

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("1048576", 1_048_576), ("512KiB", 512 << 10), ("25MiB", 25 << 20), ("1GiB", 1 << 30),
        ("10MB", 10 << 20), ("10M", 10 << 20), ("512K", 512 << 10), ("2G", 2 << 30), (" 3 MiB ", 3 << 20), ("0", 0),
    ])
    func parses(text: String, bytes: Int) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    /// Bad input is refused, never a trap: a negative number, a unit alone, a value whose
    /// octets do not fit an `Int`.
    @Test(arguments: ["", "-1", "MiB", "ten MiB", "10X", "9223372036854775807K", "99999999999999999GiB"])
    func refuses(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }
}
