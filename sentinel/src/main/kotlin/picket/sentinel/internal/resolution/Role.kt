package picket.sentinel.internal.resolution

import io.lettuce.core.api.StatefulRedisConnection
import kotlinx.coroutines.future.await

/** The role a node reports (`master`, `slave`, …), from ROLE on [connection]. */
internal suspend fun roleOf(connection: StatefulRedisConnection<String, String>): String =
    connection
        .async()
        .role()
        .await()
        .firstOrNull()
        ?.toString() ?: "none"
