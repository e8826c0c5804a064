/// The streams subscribed to an owner's ordered changes, kept inside the owner's locked state. The owner copies
/// `all` under its lock and calls `deliver` outside it: resuming a waiting stream takes that task's status lock,
/// while a task being cancelled holds its status lock and its stream's `onTermination` takes the owner's lock, so
/// yielding under the owner's lock can deadlock (seen under load).
public struct StreamSubscribers<Element: Sendable>: Sendable {
    public typealias Continuation = AsyncThrowingStream<Element, any Error>.Continuation

    private var continuations: [Int: Continuation] = [:]
    private var nextID = 0

    /// No subscribers.
    public init() {}

    /// Number of subscribers.
    public var count: Int { continuations.count }

    /// Every subscriber, to deliver to outside the owner's lock.
    public var all: [(id: Int, continuation: Continuation)] { continuations.map { ($0.key, $0.value) } }

    /// Adds a subscriber; its `onTermination` should `remove` the returned id under the owner's lock.
    public mutating func add(_ continuation: Continuation) -> Int {
        defer { nextID += 1 }
        continuations[nextID] = continuation
        return nextID
    }

    /// Removes subscribers (those `deliver` found full, or one that ended) and returns them, to finish outside the
    /// owner's lock.
    @discardableResult
    public mutating func remove(_ ids: [Int]) -> [Continuation] {
        ids.compactMap { continuations.removeValue(forKey: $0) }
    }

    /// Removes every subscriber and returns them, to finish outside the owner's lock.
    public mutating func removeAll() -> [Continuation] {
        defer { continuations = [:] }
        return Array(continuations.values)
    }

    /// Yields `elements`, in order, to each of `targets`; call it outside the owner's lock. Returns the ids whose
    /// buffer was full, which the owner cuts off.
    public static func deliver(_ elements: some Collection<Element>, to targets: [(id: Int, continuation: Continuation)]) -> [Int] {
        var full: [Int] = []
        for (id, continuation) in targets {
            for element in elements {
                if case .dropped = continuation.yield(element) {
                    full.append(id)
                    break
                }
            }
        }
        return full
    }
}
