package picket.pubsub

/**
 * Sees every message of a listener first, on the connection's I/O thread, as it arrives and before it is buffered:
 * for reactions that cannot wait for a dispatch, such as waking a thread or completing a future. Set with
 * [ListenerOptions.inlineHandler]; a message it takes (returns true for) goes no further, the others are buffered
 * for their handlers as usual.
 *
 * ```kotlin
 * val options = ListenerOptions(inlineHandler = { message ->
 *     if (message.channel == "wake-ups") waiters[message.payload]?.complete(Unit)
 *     message.channel == "wake-ups"   // taken: no handler sees it
 * })
 * val listener = picket.listen(spec, emptyMap(), options)
 * listener.subscribe("wake-ups")
 * ```
 *
 * ## Pitfalls
 * It runs on an I/O thread that pub/sub listeners share with each other: it must be fast and must not block or
 * suspend, or every listener on that thread waits (and may miss a PING and reconnect). One that throws is reported
 * ([PubSubEvent.HandlerFailed]) and the message is buffered as if it had not been taken. It runs for every message
 * the listener receives, also those that have a handler, and it is not part of the buffer: [ListenerOptions.overflow]
 * never drops a message it took.
 */
public fun interface InlineHandler {
    /** Takes [message], on the connection's I/O thread; returns true if it handled it, false to buffer it. */
    public fun handle(message: PubSubMessage): Boolean
}
