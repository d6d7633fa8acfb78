import Synchronization

/// A lock-free single-producer single-consumer ring of trivial values, allocated once.
///
/// Exactly one thread pushes and exactly one thread pops (each side owns its index; the other
/// index is only read, with acquire/release ordering). Neither side allocates, locks or waits:
/// `push` returns false when the ring is full and the caller counts the loss.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked Sendable: the storage is shared between exactly two threads, and the atomics'
    // release/acquire pairs order every slot write before the read of that slot.
    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<Element>  // (capacity,)
    /// Next slot to write; written by the producer only.
    private let head = Atomic<Int>(0)
    /// Next slot to read; written by the consumer only.
    private let tail = Atomic<Int>(0)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        var c = 1
        while c < max(2, capacity) { c <<= 1 }
        self.capacity = c
        mask = c - 1
        slots = .allocate(capacity: c)
    }

    deinit { slots.deallocate() }

    /// Producer side.
    @inline(__always)
    public func push(_ value: Element) -> Bool {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        if h &- t >= capacity { return false }
        (slots + (h & mask)).initialize(to: value)
        head.store(h &+ 1, ordering: .releasing)
        return true
    }

    /// Consumer side.
    @inline(__always)
    public func pop() -> Element? {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        if t == h { return nil }
        let value = slots[t & mask]
        tail.store(t &+ 1, ordering: .releasing)
        return value
    }

    /// Consumer side: the next value without removing it.
    @inline(__always)
    public func peek() -> Element? {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        return t == h ? nil : slots[t & mask]
    }

    /// Producer side: how many values were ever pushed (a position in the stream).
    public var produced: Int { head.load(ordering: .relaxed) }

    /// Consumer side: how many values were ever popped.
    public var consumed: Int { tail.load(ordering: .relaxed) }

    /// Either side (a snapshot).
    public var count: Int { head.load(ordering: .acquiring) &- tail.load(ordering: .acquiring) }
}
