import ApoxyAPI

/// A text table aligned as kubectl aligns its output: each column as wide as its widest cell plus three spaces
/// (at least six), the last column unpadded.
struct TextTable: Sendable {
    var headers: [String]
    var rows: [[String]]

    /// The padded width of each column but the last.
    func widths(startingFrom minimum: [Int] = []) -> [Int] {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        return widths.enumerated().map { i, width in max(max(width + 3, 6), i < minimum.count ? minimum[i] : 0) }
    }

    /// The header line and the row lines.
    func lines(widths: [Int]? = nil, includeHeader: Bool = true) -> [String] {
        let widths = widths ?? self.widths()
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                if i == cells.count - 1 {
                    text += cell
                } else {
                    text += cell + String(repeating: " ", count: max(widths[i] - cell.count, 1))
                }
            }
            return text
        }
        return (includeHeader ? [line(headers)] : []) + rows.map(line)
    }

    /// The table for a server `Table` (meta.k8s.io/v1): columns of priority 0, or all with `wide`; a LABELS column
    /// with `showLabels`; an EVENT column first when `event` is given.
    init(serverTable: JSONValue, wide: Bool, showLabels: Bool, event: String? = nil) {
        let columns = serverTable["columnDefinitions"]?.arrayValue ?? []
        let shown = columns.indices.filter { wide || (columns[$0]["priority"]?.integerValue ?? 0) == 0 }
        headers = (event == nil ? [] : ["EVENT"]) + shown.map { (columns[$0]["name"]?.stringValue ?? "").uppercased() }
        if showLabels { headers.append("LABELS") }
        rows = (serverTable["rows"]?.arrayValue ?? []).map { row in
            let cells = row["cells"]?.arrayValue ?? []
            var line = (event.map { [$0] } ?? []) + shown.map { $0 < cells.count ? Self.cellText(cells[$0]) : "<none>" }
            if showLabels { line.append(Self.labelsText(row["object"]?["metadata"]?["labels"])) }
            return line
        }
    }

    init(headers: [String], rows: [[String]]) {
        self.headers = headers
        self.rows = rows
    }

    static func cellText(_ cell: JSONValue) -> String {
        switch cell {
        case .null: return "<none>"
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double, .bool, .array, .object: return cell.jsonString
        }
    }

    /// `key=value,...` sorted by key, or `<none>`.
    static func labelsText(_ labels: JSONValue?) -> String {
        guard let members = labels?.objectValue, !members.isEmpty else { return "<none>" }
        return members.keys.sorted().map { "\($0)=\(members[$0]?.stringValue ?? "")" }.joined(separator: ",")
    }
}
