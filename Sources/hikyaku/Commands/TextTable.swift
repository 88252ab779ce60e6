import RelayCore

/// A plain-text table with aligned columns (numbers right-aligned), for terminal output.
struct TextTable {
    enum Alignment { case left, right }

    private let headers: [String]
    private let alignments: [Alignment]
    private var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        headers = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    /// Cells may hold remote text (a suspension's reason is an MX server's reply): control
    /// characters are dropped so none reaches the terminal.
    mutating func add(_ row: [String]) {
        rows.append(row.map { RemoteText.sanitized($0) })
    }

    var isEmpty: Bool { rows.isEmpty }

    /// The table, each line indented by `indent` spaces, without a trailing newline.
    func render(indent: Int = 2) -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        let margin = String(repeating: " ", count: indent)
        return all.map { row in
            var cells: [String] = []
            for column in headers.indices {
                let text = row.indices.contains(column) ? row[column] : ""
                let fill = String(repeating: " ", count: widths[column] - text.count)
                cells.append(alignments[column] == .right ? fill + text : text + fill)
            }
            var line = margin + cells.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
