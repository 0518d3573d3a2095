package picket.core

/**
 * Turns an address as Sentinel announces it (masters, replicas, sentinels) into the address to connect to: for
 * NAT, containers and port forwarding, where nodes announce addresses that clients cannot reach. Picket keeps the
 * announced addresses everywhere else (cache, events, status), so that they compare with what Sentinel says; only
 * sockets use the mapped ones.
 *
 * ```kotlin
 * val mapper = AddressMapper { announced -> Address("redis.example.com", announced.port + 10_000) }
 * ```
 */
public fun interface AddressMapper {
    /** The address to connect to for [announced]. */
    public fun map(announced: Address): Address

    public companion object {
        /** Connects to the addresses as announced. */
        @JvmField
        public val IDENTITY: AddressMapper = AddressMapper { it }

        /** A mapper from a table; addresses not in [table] are used as announced. */
        @JvmStatic
        public fun of(table: Map<Address, Address>): AddressMapper {
            val copy = table.toMap()
            return AddressMapper { copy[it] ?: it }
        }
    }
}
