/// kube-apiserver's `--token-auth-file`: CSV lines `token,user,uid,"group1,group2"` (groups optional).
public enum TokenFile {
    /// A line that is not a valid record.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "token file line \(line): \(message)" }
    }

    /// The users by token. As kube's tokenfile: blank lines are skipped, a record needs at least 3 columns, a
    /// record with an empty token is ignored, and a later duplicate token wins.
    public static func parse(_ text: String) throws(ParseError) -> [String: UserInfo] {
        var users: [String: UserInfo] = [:]
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields = try csvFields(line, lineNumber: lineNumber)
            guard fields.count >= 3 else {
                throw ParseError(
                    line: lineNumber, message: "must have at least 3 columns (token, user name, user uid), found \(fields.count)")
            }
            if fields[0].isEmpty { continue }
            let groups = fields.count >= 4 ? fields[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
            users[fields[0]] = UserInfo(name: fields[1], uid: fields[2], groups: groups)
        }
        return users
    }

    /// One CSV record (RFC 4180 quoting, leading spaces of a field trimmed as Go's `csv.Reader.TrimLeadingSpace`).
    static func csvFields(_ line: Substring, lineNumber: Int) throws(ParseError) -> [String] {
        var fields: [String] = []
        var current = ""
        var index = line.startIndex
        var atFieldStart = true
        while index < line.endIndex {
            let c = line[index]
            if atFieldStart && (c == " " || c == "\t") {
                index = line.index(after: index)
                continue
            }
            if atFieldStart && c == "\"" {
                // A quoted field: up to the closing quote, `""` is a quote.
                index = line.index(after: index)
                var closed = false
                while index < line.endIndex {
                    let q = line[index]
                    index = line.index(after: index)
                    if q == "\"" {
                        if index < line.endIndex, line[index] == "\"" {
                            current.append("\"")
                            index = line.index(after: index)
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        current.append(q)
                    }
                }
                guard closed else { throw ParseError(line: lineNumber, message: "extraneous or missing \" in quoted-field") }
                guard index == line.endIndex || line[index] == "," else {
                    throw ParseError(line: lineNumber, message: "extraneous or missing \" in quoted-field")
                }
                atFieldStart = false
                continue
            }
            atFieldStart = false
            if c == "," {
                fields.append(current)
                current = ""
                atFieldStart = true
            } else if c == "\"" {
                throw ParseError(line: lineNumber, message: "bare \" in non-quoted-field")
            } else {
                current.append(c)
            }
            index = line.index(after: index)
        }
        fields.append(current)
        return fields
    }
}
