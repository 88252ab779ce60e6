import Foundation
import Testing

@testable import MessageComposer

@Suite struct EncodedWordTests {
    let longSubject = "日本語の件名テスト：請求書の送付と来月の打ち合わせ日程についてのご案内（株式会社山田商事）"

    @Test func utf8WordsAreShortAndSplitBetweenCharacters() throws {
        let words = try HeaderText.encodedWords(longSubject, TextEncoder(.utf8), field: "subject")
        #expect(words.count > 2)
        var joined: [UInt8] = []
        for word in words {
            #expect(word.utf8.count <= 75)
            let decoded = try #require(Fixture.decodeWord(word))
            #expect(decoded.charset == "UTF-8")
            // Each word on its own is valid UTF-8: no sequence was split.
            #expect(String(validating: decoded.bytes, as: UTF8.self) != nil)
            joined += decoded.bytes
        }
        #expect(String(decoding: joined, as: UTF8.self) == longSubject)
    }

    @Test func graphemeClustersStayWhole() throws {
        let family = "👨‍👩‍👧‍👦"  // 25 UTF-8 bytes in one character
        let text = String(repeating: "a" + family, count: 6)
        let words = try HeaderText.encodedWords(text, TextEncoder(.utf8), field: "subject")
        var characters = 0
        for word in words {
            let bytes = try #require(Fixture.decodeWord(word)).bytes
            let piece = try #require(String(validating: bytes, as: UTF8.self))
            characters += piece.count
        }
        #expect(characters == text.count)
    }

    @Test func aClusterTooLargeForOneWordIsSplitBetweenScalars() throws {
        let text = "e" + String(repeating: "\u{301}", count: 200)
        let words = try HeaderText.encodedWords(text, TextEncoder(.utf8), field: "subject")
        var joined: [UInt8] = []
        for word in words {
            #expect(word.utf8.count <= 75)
            let bytes = try #require(Fixture.decodeWord(word)).bytes
            #expect(String(validating: bytes, as: UTF8.self) != nil)
            joined += bytes
        }
        #expect(joined == Array(text.utf8))
    }

    @Test func iso2022jpWordsStartAndEndInASCII() throws {
        let words = try HeaderText.encodedWords("ABC" + longSubject + "xyz", TextEncoder(.iso2022jp), field: "subject")
        #expect(words.count > 2)
        for word in words {
            #expect(word.utf8.count <= 75)
            let decoded = try #require(Fixture.decodeWord(word))
            #expect(decoded.charset == "ISO-2022-JP")
            // Track the shift state through the word's escapes: ESC $ B enters JIS X 0208,
            // ESC ( B returns to ASCII; every word must end where it started, in ASCII.
            var inASCII = true
            var index = 0
            let bytes = decoded.bytes
            while index < bytes.count {
                #expect(bytes[index] < 0x80)
                if bytes[index] == 0x1B {
                    inASCII = bytes[index + 1] == UInt8(ascii: "(")
                    index += 3
                } else {
                    index += 1
                }
            }
            #expect(inASCII)
        }
    }

    @Test func quotedStringEscapesQuoteAndBackslash() {
        #expect(HeaderText.quoted(#"Say "hi" \ bye"#) == #""Say \"hi\" \\ bye""#)
    }

    @Test(arguments: [
        ("John Doe", ["John", "Doe"]),
        ("Doe, John", [#""Doe, John""#]),
        ("J. Doe", [#""J. Doe""#]),
        (#"A "B" C"#, [#""A \"B\" C""#]),
        ("two  spaces", [#""two  spaces""#]),
    ])
    func asciiDisplayNames(name: String, tokens: [String]) throws {
        #expect(try HeaderText.phrase(name, TextEncoder(.utf8), field: "from.name") == tokens)
    }

    @Test func displayNamesThatLookEncodedOrAreLongAreEncoded() throws {
        let lookalike = try HeaderText.phrase("=?UTF-8?B?QQ==?=", TextEncoder(.utf8), field: "from.name")
        #expect(lookalike.allSatisfy { $0.hasPrefix("=?UTF-8?B?") })
        let long = String(repeating: "Doe, ", count: 30)
        let words = try HeaderText.phrase(long, TextEncoder(.utf8), field: "from.name")
        #expect(words.count > 1 && words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.utf8.count <= 75 })
    }

    @Test func headerFoldingKeepsLinesShortAndUnfoldsToTheValue() {
        let value = "word " + String(repeating: "lorem ipsum  dolor ", count: 20)
        var output: [UInt8] = []
        HeaderField("Subject", unstructured: value).render(into: &output)
        let lines = Fixture.lines(output)!
        #expect(lines.count > 3)
        #expect(lines.allSatisfy { $0.count <= 78 })
        #expect(lines.dropFirst().allSatisfy { $0.first == UInt8(ascii: " ") && $0.contains { $0 != UInt8(ascii: " ") } })
        let unfolded = String(decoding: output, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "")
        #expect(unfolded == "Subject: " + value)
    }
}
