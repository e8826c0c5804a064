#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Standard output and error, written unbuffered so watch events and errors appear at once and in order.
/// Written with write(2) rather than FileHandle, whose `write` traps on a closed pipe (`apoxy be list | head`).
enum Console {
    /// Writes `text` to standard output as is.
    static func write(_ text: String) {
        write(fileDescriptor: 1, text)
    }

    /// Writes each line plus a newline to standard output.
    static func print(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        write(lines.joined(separator: "\n") + "\n")
    }

    /// Writes each line plus a newline to standard error.
    static func error(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        write(fileDescriptor: 2, lines.joined(separator: "\n") + "\n")
    }

    /// Writes all of `text`. When the reader has gone away (EPIPE: SIGPIPE is ignored in this process), ends the
    /// process quietly with 141, the status a shell reports for a command killed by SIGPIPE.
    private static func write(fileDescriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                    Darwin.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
            }
            if written >= 0 {
                offset += written
            } else if errno == EINTR {
                continue
            } else if errno == EPIPE {
                exit(141)
            } else {
                return
            }
        }
    }
}
