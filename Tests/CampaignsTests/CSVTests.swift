import Testing

@testable import Campaigns

struct CSVTests {
    /// Parses `bytes` fed in pieces of `piece` bytes (records must not depend on where reads end).
    static func parse(_ bytes: [UInt8], piece: Int = 7, limits: CSVParser.Limits = .init()) -> [CSVParser.Record] {
        var parser = CSVParser(limits: limits)
        var out: [CSVParser.Record] = []
        var index = 0
        while index < bytes.count {
            parser.feed(bytes[index..<min(index + piece, bytes.count)], into: &out)
            index += piece
        }
        parser.finish(into: &out)
        return out
    }

    static func texts(_ record: CSVParser.Record) -> [String] {
        guard case .fields(_, let fields) = record else { return [] }
        return fields.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: [1, 3, 64])
    func quotedFieldsLineBreaksAndLineNumbers(piece: Int) {
        let text = "email,note\r\na@x.jp,\"say \"\"hi\"\", then\r\nbye\"\r\n\r\nb@x.jp,plain\nc@x.jp,last"
        let records = Self.parse(Array(text.utf8), piece: piece)
        #expect(records.count == 4)
        #expect(Self.texts(records[1]) == ["a@x.jp", "say \"hi\", then\r\nbye"])
        guard case .fields(let line, _) = records[2] else {
            Issue.record("not a row")
            return
        }
        #expect(line == 5)  // after the quoted line break and a blank line
        #expect(Self.texts(records[3]) == ["c@x.jp", "last"])
    }

    @Test func boundsRecordSizeAndFieldCount() {
        let long = "email\n" + String(repeating: "x", count: 300) + "@x.jp\nok@x.jp\n"
        let records = Self.parse(Array(long.utf8), limits: .init(maxRecordBytes: 100, maxFields: 3))
        #expect(records.count == 3)
        #expect(records[1] == .invalid(line: 2, problem: "record longer than 100 bytes"))
        #expect(Self.texts(records[2]) == ["ok@x.jp"])
        let wide = Self.parse(Array("a,b,c,d,e\nx@y.jp\n".utf8), limits: .init(maxRecordBytes: 100, maxFields: 3))
        #expect(wide.first == .invalid(line: 1, problem: "more than 3 fields"))
        #expect(Self.texts(wide[1]) == ["x@y.jp"])
    }

    @Test func unterminatedQuoteIsReported() {
        let records = Self.parse(Array("email\n\"a@x.jp\n".utf8))
        #expect(records.last == .invalid(line: 2, problem: "unterminated quoted field"))
    }

    @Test func detectsUTF8WithAndWithoutBOMElseCP932() {
        #expect(CSVEncoding.detect([0xEF, 0xBB, 0xBF] + Array("email".utf8)) == .utf8)
        #expect(CSVEncoding.detect(Array("email,名前\n".utf8)) == .utf8)
        // A sample cut inside a UTF-8 character is still UTF-8.
        #expect(CSVEncoding.detect(Array(Array("名前".utf8).dropLast())) == .utf8)
        // "email,会社" in CP932: 0x89 0xEF 0x8E 0xD0 is not UTF-8.
        #expect(CSVEncoding.detect(Array("email,".utf8) + [0x89, 0xEF, 0x8E, 0xD0]) == .cp932)
        #expect(CSVEncoding(name: "Shift_JIS") == .cp932 && CSVEncoding(name: "UTF8") == .utf8 && CSVEncoding(name: "latin1") == nil)
    }

    /// Windows-31J as Japanese Excel writes it, with the NEC and IBM extensions (① 0x8740,
    /// ㈱ 0x878A) that plain Shift_JIS lacks, and 0x5C as a trail byte (表 = 0x95 0x5C).
    @Test func decodesCP932WithExtensions() throws {
        let bytes: [UInt8] =
            Array("email,name,company\r\n".utf8) + Array("taro@example.jp,".utf8) + [0x91, 0xBE, 0x98, 0x59, 0x2C]
            + [0x87, 0x8A, 0x83, 0x54, 0x83, 0x93, 0x83, 0x76, 0x83, 0x8B, 0x0D, 0x0A] + Array("hanako@example.jp,".utf8)
            + [0x95, 0x5C, 0x2C, 0x87, 0x40, 0x94, 0xD4, 0x0D, 0x0A]
        #expect(CSVEncoding.detect(bytes) == .cp932)
        let decoder = FieldDecoder(.cp932)
        var rows = ListRows()
        var outcomes: [ListRows.Outcome] = []
        for record in Self.parse(bytes) { outcomes.append(try rows.take(record, decoder: decoder)) }
        #expect(outcomes.first == .header(["email", "name", "company"]))
        guard case .row(let taro) = outcomes[1], case .row(let hanako) = outcomes[2] else {
            Issue.record("rows expected: \(outcomes)")
            return
        }
        #expect(taro.values == ["taro@example.jp", "太郎", "㈱サンプル"])
        #expect(hanako.values == ["hanako@example.jp", "表", "①番"])
        #expect(decoder.decode([0x81]) == nil)  // a lead byte without its trail
    }

    @Test func rowsReportBadAddressesAndWidthsWithLines() throws {
        let text = "\u{FEFF}Name,EMail\nA,a@example.jp\nB,not-an-address\nC\nD, D@Example.JP \nE,e@[192.0.2.1]\n"
        var rows = ListRows()
        var outcomes: [ListRows.Outcome] = []
        for record in Self.parse(Array(text.utf8)) { outcomes.append(try rows.take(record, decoder: FieldDecoder(.utf8))) }
        #expect(outcomes[0] == .header(["Name", "EMail"]))
        #expect(outcomes[2] == .invalid(line: 3, problem: "'not-an-address' is not an email address"))
        #expect(outcomes[3] == .invalid(line: 4, problem: "1 fields; the header has 2"))
        guard case .row(let d) = outcomes[4] else {
            Issue.record("row expected")
            return
        }
        #expect(d.email == "D@Example.JP" && d.key == "d@example.jp" && d.line == 5)
        guard case .invalid(6, _) = outcomes[5] else {
            Issue.record("address literal accepted")
            return
        }
    }

    @Test func headerWithoutTheEmailColumnRefuses() {
        var rows = ListRows(emailColumn: "mail")
        #expect(throws: ListImportError.self) { try rows.take(.fields(line: 1, [Array("email".utf8)]), decoder: FieldDecoder(.utf8)) }
        var twice = ListRows()
        #expect(throws: ListImportError.self) {
            try twice.take(.fields(line: 1, [Array("email".utf8), Array("email".utf8)]), decoder: FieldDecoder(.utf8))
        }
    }
}
