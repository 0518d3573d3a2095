package picket.pubsub

import picket.core.InvalidSpecException

/**
 * What a listener subscribes to: a [Channel] by its exact name (`SUBSCRIBE`) or a [Pattern], a glob over channel
 * names (`PSUBSCRIBE`, such as `news.*`).
 */
public sealed class Topic {
    /** The channel name or the pattern. */
    public abstract val name: String

    /** A channel, by its exact name. */
    public data class Channel(
        override val name: String,
    ) : Topic() {
        init {
            if (name.isEmpty()) throw InvalidSpecException("a channel name is empty")
        }

        override fun toString(): String = "channel '$name'"
    }

    /** A glob over channel names (`*`, `?`, `[...]`). */
    public data class Pattern(
        override val name: String,
    ) : Topic() {
        init {
            if (name.isBlank()) throw InvalidSpecException("a pattern is blank")
        }

        override fun toString(): String = "pattern '$name'"
    }

    public companion object {
        /** The channel [name]. @throws InvalidSpecException if it is empty. */
        @JvmStatic
        public fun channel(name: String): Topic = Channel(name)

        /** The pattern [glob]. @throws InvalidSpecException if it is blank. */
        @JvmStatic
        public fun pattern(glob: String): Topic = Pattern(glob)
    }
}

/** The channels and patterns a listener is subscribed to (or will be again once it has reconnected). */
public data class Subscriptions(
    public val channels: Set<String>,
    public val patterns: Set<String>,
)
