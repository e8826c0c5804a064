import Foundation

#if canImport(Glibc)
    import CEpoll  // epoll, which Glibc's module map leaves out
    import Glibc
#endif

/// Many watch connections read by one thread with `epoll(7)` and plain sockets: per event and watcher the
/// generator costs one `read` and a byte scan, so 1,000 watchers do not make the load generator the bottleneck
/// (a task, a stream and an event-loop hop per watcher did: it used more CPU than the server it measured).
final class WatchFanIn: @unchecked Sendable {
    /// When each watcher received each resourceVersion, one array per watcher.
    typealias Receipts = [[(revision: Int64, at: ContinuousClock.Instant)]]

    private var sockets: [Int32] = []
    private var pending: [[UInt8]] = []
    private let stop = NSLock()
    private var stopRequested = false

    /// Opens `count` watches of `path` on 127.0.0.1:`port` and checks each answered 200.
    init(port: Int, path: String, count: Int) throws {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: application/json\r\n\r\n".utf8)
        for _ in 0..<count {
            let fd = try Self.connect(port: port)
            sockets.append(fd)
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
                throw BenchError(message: "watch request: \(String(cString: strerror(errno)))")
            }
            let rest = try Self.readHeaders(fd)
            pending.append(rest)
        }
    }

    deinit {
        for fd in sockets { close(fd) }
    }

    /// Asks `receive` to return after its current poll.
    func requestStop() {
        stop.lock()
        stopRequested = true
        stop.unlock()
    }

    private var shouldStop: Bool {
        stop.lock()
        defer { stop.unlock() }
        return stopRequested
    }

    /// Reads every watch on a dedicated thread until each has `expected` events or `requestStop` is called.
    func receive(expected: Int) async -> Receipts {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread { continuation.resume(returning: self.pollLoop(expected: expected)) }
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancel: {
            requestStop()
        }
    }

    private func pollLoop(expected: Int) -> Receipts {
        let marker = Array("\"resourceVersion\":\"".utf8)
        var receipts: Receipts = Array(repeating: [], count: sockets.count)
        for i in receipts.indices { receipts[i].reserveCapacity(expected) }
        var buffers = pending
        var open = Array(repeating: true, count: sockets.count)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        // Bytes received with the headers.
        let start = ContinuousClock.now
        for i in buffers.indices { Self.scan(&buffers[i], marker: marker, at: start, into: &receipts[i]) }
        // epoll, not poll: a wake-up costs the ready descriptors only, not all of them.
        let epoll = epoll_create1(0)
        defer { close(epoll) }
        for (i, fd) in sockets.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = UInt64(i)
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        }
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var complete = receipts.filter { $0.count >= expected }.count
        var openCount = sockets.count
        while !shouldStop, complete < sockets.count, openCount > 0 {
            let ready = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), 100) }
            if ready <= 0 { continue }
            let now = ContinuousClock.now
            for e in 0..<Int(ready) {
                let i = Int(events[e].data.u64)
                guard open[i] else { continue }
                let n = chunk.withUnsafeMutableBytes { read(sockets[i], $0.baseAddress, $0.count) }
                if n <= 0 {
                    open[i] = false
                    openCount -= 1
                    epoll_ctl(epoll, EPOLL_CTL_DEL, sockets[i], nil)
                    continue
                }
                let before = receipts[i].count
                buffers[i].append(contentsOf: chunk[0..<n])
                Self.scan(&buffers[i], marker: marker, at: now, into: &receipts[i])
                if before < expected, receipts[i].count >= expected { complete += 1 }
            }
        }
        return receipts
    }

    /// Records every complete `"resourceVersion":"N"` in `buffer` and keeps only a tail that may hold a split one.
    private static func scan(
        _ buffer: inout [UInt8], marker: [UInt8], at now: ContinuousClock.Instant,
        into receipts: inout [(revision: Int64, at: ContinuousClock.Instant)]
    ) {
        var keepFrom = max(0, buffer.count - marker.count)
        buffer.withUnsafeBufferPointer { bytes in
            marker.withUnsafeBufferPointer { marker in
                var i = 0
                let last = bytes.count - marker.count
                while i <= last {
                    // A plain loop over unsafe bytes: the generic `firstRange(of:)` made this scan the generator's bottleneck.
                    guard bytes[i] == marker[0], memcmp(bytes.baseAddress! + i, marker.baseAddress!, marker.count) == 0 else {
                        i += 1
                        continue
                    }
                    var value: Int64 = 0
                    var end = i + marker.count
                    while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 {
                        value = value * 10 + Int64(bytes[end] - 0x30)
                        end += 1
                    }
                    guard end < bytes.count else {
                        keepFrom = i  // the digits may continue in the next read
                        return
                    }
                    receipts.append((value, now))
                    i = end
                    keepFrom = max(end, bytes.count - marker.count)
                }
            }
        }
        buffer.removeFirst(keepFrom)
    }

    private static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError(message: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw BenchError(message: "connect: \(String(cString: strerror(errno)))")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Reads up to the end of the response headers (blocking); returns any body bytes read with them.
    private static func readHeaders(_ fd: Int32) throws -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw BenchError(message: "watch closed before its headers") }
            received.append(contentsOf: chunk[0..<n])
            if let range = received.firstRange(of: end) {
                let head = String(decoding: received[..<range.lowerBound], as: UTF8.self)
                guard head.hasPrefix("HTTP/1.1 200") else { throw BenchError(message: "watch answered: \(head.prefix(80))") }
                return Array(received[range.upperBound...])
            }
        }
    }
}
