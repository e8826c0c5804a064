public import ApoxyStorage
import EtcdAPI
import Foundation
import GRPCCore
import GRPCProtobuf
import Logging
import SwiftProtobuf
import Synchronization

/// The open watches: each one's request stream (for progress requests) and the queue of watches to start. `run()`
/// starts each queued watch as a child task, so every watch lives in the storage's structured task tree.
final class WatchRegistry: Sendable {
    struct Job: Sendable {
        var after: Int64
        var output: ChangeStream.Continuation
        /// Resumed once etcd has created the watch (or failed to).
        var started: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var nextID = 0
        var requests: [Int: AsyncStream<Etcdserverpb_WatchRequest>.Continuation] = [:]
        var closed = false
    }

    let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation
    private let state = Mutex(State())
    let bufferLimit: Int

    init(bufferLimit: Int) {
        self.bufferLimit = bufferLimit
        (jobs, jobSink) = AsyncStream.makeStream(of: Job.self)
    }

    /// Queues a watch; false once the storage is closed.
    func submit(_ job: Job) -> Bool {
        if state.withLock({ $0.closed }) { return false }
        if case .terminated = jobSink.yield(job) { return false }
        return true
    }

    func add(_ requests: AsyncStream<Etcdserverpb_WatchRequest>.Continuation) -> Int? {
        state.withLock { state in
            if state.closed { return nil }
            state.nextID += 1
            state.requests[state.nextID] = requests
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        _ = state.withLock { $0.requests.removeValue(forKey: id) }
    }

    /// Sends `request` on every open watch stream.
    func broadcast(_ request: Etcdserverpb_WatchRequest) {
        let streams = state.withLock { Array($0.requests.values) }
        for stream in streams { stream.yield(request) }
    }

    var count: Int { state.withLock { $0.requests.count } }

    /// Stops accepting watches and half-closes every open one.
    func close() {
        let streams = state.withLock { state in
            state.closed = true
            defer { state.requests = [:] }
            return Array(state.requests.values)
        }
        jobSink.finish()
        for stream in streams { stream.finish() }
    }
}

extension EtcdStorage {
    public func watch(after revision: Int64) async throws -> ChangeStream {
        // etcd reports a compacted start revision only after creating the watch, and maybe after a progress report:
        // a read at the first revision wanted tells at once.
        try await checkRetained(revision + 1)
        let (stream, output) = ChangeStream.makeStream(bufferingPolicy: .bufferingOldest(watches.bufferLimit))
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            if !watches.submit(WatchRegistry.Job(after: revision, output: output, started: started)) {
                started.resume(throwing: StorageError(.unavailable, message: "storage is closed"))
            }
        }
        return stream
    }

    public func requestWatchProgress() async {
        watches.broadcast(.with { $0.progressRequest = Etcdserverpb_WatchProgressRequest() })
    }

    /// Number of open etcd watch streams.
    public var watchCount: Int { watches.count }

    /// Runs one etcd watch of every key under the prefix, from `job.after + 1`, until it fails or its reader goes away.
    func follow(_ job: WatchRegistry.Job) async {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = etcdKey("/")
        create.rangeEnd = Self.prefixEnd(create.key)
        create.startRevision = job.after + 1
        create.prevKv = true
        create.progressNotify = true
        let (requests, requestSink) = AsyncStream.makeStream(of: Etcdserverpb_WatchRequest.self)
        requestSink.yield(.with { $0.createRequest = create })
        let started = StartSignal(job.started)
        guard let id = watches.add(requestSink) else {
            started.resume(throwing: StorageError(.unavailable, message: "storage is closed"))
            job.output.finish(throwing: StorageError(.unavailable, message: "storage is closed"))
            return
        }
        // The reader went away: end the RPC.
        job.output.onTermination = { _ in requestSink.finish() }
        defer {
            watches.remove(id)
            requestSink.finish()
        }
        var options = CallOptions.defaults
        options.waitForReady = false
        do {
            try await client.bidirectionalStreaming(
                request: StreamingClientRequest(of: Etcdserverpb_WatchRequest.self) { writer in
                    for await request in requests { try await writer.write(request) }
                },
                descriptor: EtcdMethods.watch, serializer: ProtobufSerializer<Etcdserverpb_WatchRequest>(),
                deserializer: ProtobufDeserializer<Etcdserverpb_WatchResponse>(), options: options
            ) { response in
                for try await message in response.messages {
                    if message.compactRevision > 0 {
                        throw StorageError(
                            .compacted(oldest: message.compactRevision),
                            message: "required revision \(job.after + 1) has been compacted (compacted revision \(message.compactRevision))"
                        )
                    }
                    if message.canceled {
                        throw StorageError(.unavailable, message: "etcd cancelled the watch: \(message.cancelReason)")
                    }
                    if message.created {
                        started.resume()
                        continue
                    }
                    if message.events.isEmpty {
                        if case .terminated = job.output.yield(.progress(message.header.revision)) { return }
                        continue
                    }
                    for event in message.events {
                        switch job.output.yield(self.change(event)) {
                        case .enqueued: continue
                        case .terminated: return
                        case .dropped:
                            throw StorageError(.unavailable, message: "watcher fell more than \(self.watches.bufferLimit) changes behind")
                        @unknown default: continue
                        }
                    }
                }
                throw StorageError(.unavailable, message: "etcd ended the watch")
            }
            job.output.finish()
        } catch {
            let failure =
                (error as? StorageError) ?? (error as? RPCError).map { Self.storageError($0, key: "") }
                ?? StorageError(.unavailable, message: "etcd watch failed: \(error)")
            // Before etcd created the watch, the caller of watch(after:) gets the error itself.
            started.resume(throwing: failure)
            job.output.finish(throwing: failure)
        }
        started.resume()
    }

    private func change(_ event: Mvccpb_Event) -> StorageChange {
        switch event.type {
        case .delete:
            var object = event.hasPrevKv ? stored(event.prevKv) : stored(event.kv)
            object.key = storageKey(event.kv.key)
            object.modRevision = event.kv.modRevision
            return StorageChange(kind: .delete, object: object)
        default:
            return StorageChange(kind: .put, object: stored(event.kv), previousValue: event.hasPrevKv ? Array(event.prevKv.value) : nil)
        }
    }
}

/// Resumes the caller of `watch(after:)` once: when etcd has created the watch, or with the error that ended it first.
final class StartSignal: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, any Error>?>

    init(_ continuation: CheckedContinuation<Void, any Error>) { self.continuation = Mutex(continuation) }

    func resume() { take()?.resume() }

    func resume(throwing error: any Error) { take()?.resume(throwing: error) }

    private func take() -> CheckedContinuation<Void, any Error>? { continuation.withLock { $0.take() } }
}
