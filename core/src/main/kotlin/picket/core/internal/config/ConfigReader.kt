package picket.core.internal.config

import picket.core.Balancer
import picket.core.Balancers
import picket.core.ConnSpec
import picket.core.Durability
import picket.core.InvalidSpecException
import picket.core.KeepAlive
import picket.core.ReadFrom
import picket.core.RedisUri
import picket.core.SentinelGroup
import java.time.Duration

/**
 * Reads sentinel groups and specs from flat keys (`<prefix>sentinel-groups.<name>.<setting>`,
 * `<prefix>specs.<name>.<setting>`); keys outside the prefix are not Picket's and are skipped, unknown keys inside
 * it are errors. core/README.md, "Configuration", lists the settings.
 */
internal class ConfigReader(
    private val prefix: String,
) {
    class Result(
        val groups: Map<String, SentinelGroup>,
        val specs: Map<String, ConnSpec>,
    )

    fun read(values: Map<String, String>): Result {
        val groups = sortedMapOf<String, MutableMap<String, String>>()
        val specs = sortedMapOf<String, MutableMap<String, String>>()
        values.keys.filter { it.startsWith(prefix) }.sorted().forEach { key ->
            val rest = key.removePrefix(prefix)
            val category = rest.substringBefore('.')
            val target =
                when (category) {
                    GROUPS -> groups

                    SPECS -> specs

                    else -> throw InvalidSpecException(
                        "unknown key $key: Picket's keys start with $prefix$GROUPS. or $prefix$SPECS.",
                    )
                }
            val name = rest.removePrefix("$category.").substringBefore('.')
            val setting = rest.removePrefix("$category.$name").removePrefix(".")
            if (name.isBlank() || setting.isEmpty()) {
                throw InvalidSpecException("key $key: write $prefix$category.<name>.<setting>")
            }
            target.getOrPut(name) { mutableMapOf() }[setting] = values.getValue(key)
        }
        return Result(
            groups.mapValues { (name, settings) -> group(Settings("$prefix$GROUPS.$name.", settings)) },
            specs.mapValues { (name, settings) -> spec(Settings("$prefix$SPECS.$name.", settings)) },
        )
    }

    private fun group(settings: Settings): SentinelGroup {
        val sentinels =
            settings.addresses("sentinels") ?: settings.invalid("sentinels", "missing: give host:port[,host:port…]")
        val keepAlive = settings.boolean("keep-alive")
        val builder =
            SentinelGroup
                .builder()
                .sentinels(sentinels)
                .credentials(settings.string("username"), settings.secret("password"))
                .keepAlive(if (keepAlive == false) null else KeepAlive.DEFAULT)
                .tls(settings.tls())
        settings.duration("connect-timeout")?.let(builder::connectTimeout)
        settings.duration("command-timeout")?.let(builder::commandTimeout)
        settings.boolean("subscribe-to-all")?.let(builder::subscribeToAll)
        settings.duration("ping-interval")?.let(builder::pingInterval)
        settings.duration("revalidate-every")?.let(builder::revalidateEvery)
        settings.duration("resolution-interval")?.let(builder::resolutionInterval)
        settings.boolean("park-writes")?.let(builder::parkWrites)
        settings.duration("parking-timeout")?.let(builder::parkingTimeout)
        settings.boolean("loss-detection")?.let(builder::lossDetection)
        settings.finish(GROUP_SETTINGS)
        return settings.built("", builder::build)
    }

    private fun spec(settings: Settings): ConnSpec {
        val uri = settings.string("uri")
        val group = settings.string("group")
        val masterName = settings.string("master-name")
        val host = settings.string("host")
        val port = settings.int("port")
        val tls = settings.tls()
        if (uri != null && listOfNotNull(group, masterName, host, port).isNotEmpty()) {
            settings.invalid("uri", "a spec with a uri takes no group, master-name, host or port")
        }
        val base =
            if (uri != null) {
                settings.built("uri") { RedisUri.direct(uri, tls) }
            } else {
                settings.built("") {
                    ConnSpec(sentinelGroup = group, masterName = masterName, host = host, port = port, tls = tls)
                }
            }
        val readFrom = readFrom(settings)
        val durability = durability(settings)
        val keepAlive = settings.boolean("keep-alive")
        val username = settings.string("username")
        val password = settings.secret("password")
        val database = settings.int("database")
        val clientName = settings.string("client-name")
        val connectTimeout = settings.duration("connect-timeout")
        val commandTimeout = settings.duration("command-timeout")
        val idempotent = settings.boolean("idempotent")
        val poolSize = settings.int("pool-size")
        val poolWait = settings.duration("pool-wait")
        val scope = settings.string("connection-scope")
        settings.finish(SPEC_SETTINGS)
        return settings.built("") {
            base.copy(
                username = username ?: base.username,
                password = password ?: base.password,
                database = database ?: base.database,
                clientName = clientName ?: base.clientName,
                connectTimeout = connectTimeout ?: base.connectTimeout,
                commandTimeout = commandTimeout ?: base.commandTimeout,
                readFrom = readFrom,
                durability = durability,
                idempotent = idempotent ?: false,
                poolSize = poolSize ?: base.poolSize,
                poolWait = poolWait ?: base.poolWait,
                connectionScope = scope,
                keepAlive = if (keepAlive == false) null else KeepAlive.DEFAULT,
            )
        }
    }

    private fun readFrom(settings: Settings): ReadFrom {
        val where = settings.choice("read-from", READ_FROM) ?: MASTER
        val balancer = settings.choice("balancer", BALANCERS)
        val readYourWrites = settings.boolean("read-your-writes") ?: false
        if (where == MASTER) {
            if (balancer != null) settings.invalid("balancer", "applies to replica reads: set read-from")
            if (readYourWrites) settings.invalid("read-your-writes", "applies to replica reads: set read-from")
            return ReadFrom.Master
        }
        return ReadFrom.PreferReplica(
            (balancer ?: { Balancers.random })(),
            fallbackToMaster = where == PREFER_REPLICA,
            readYourWrites = readYourWrites,
        )
    }

    private fun durability(settings: Settings): Durability {
        val kind = settings.string("durability")?.lowercase()
        val timeout = settings.duration("durability-timeout")
        if (kind == null || kind == "none") {
            if (timeout != null) settings.invalid("durability-timeout", "given without a durability")
            return Durability.None
        }
        val wait: Duration =
            timeout ?: settings.invalid("durability-timeout", "missing: durability '$kind' needs a timeout")
        val count =
            if (kind.startsWith("replicas:")) {
                kind.removePrefix("replicas:").toIntOrNull()
                    ?: settings.invalid("durability", "'$kind': write replicas:<count>")
            } else {
                null
            }
        return settings.built("durability") {
            when (kind) {
                "all-replicas" -> {
                    Durability.allReplicas(wait)
                }

                "majority" -> {
                    Durability.majority(wait)
                }

                "aof" -> {
                    Durability.aof(wait)
                }

                else -> {
                    Durability.replicas(
                        count ?: throw InvalidSpecException("'$kind' is not one of $DURABILITIES"),
                        wait,
                    )
                }
            }
        }
    }

    private companion object {
        const val GROUPS = "sentinel-groups"
        const val SPECS = "specs"
        const val MASTER = "master"
        const val PREFER_REPLICA = "prefer-replica"
        val READ_FROM = mapOf(MASTER to MASTER, PREFER_REPLICA to PREFER_REPLICA, "replica" to "replica")

        /** Factories: round-robin keeps state, so each spec gets a balancer of its own. */
        val BALANCERS: Map<String, () -> Balancer> =
            mapOf(
                "random" to { Balancers.random },
                "first" to { Balancers.first },
                "round-robin" to Balancers::roundRobin,
            )
        const val DURABILITIES = "none, all-replicas, majority, replicas:<count>, aof"
        const val TLS_SETTINGS =
            "tls.trusted-certificates, tls.trust-store, tls.trust-store-password, tls.jdk-trust, " +
                "tls.client-certificate, tls.client-key, tls.verify-hostname"
        const val GROUP_SETTINGS =
            "sentinels, username, password, connect-timeout, command-timeout, subscribe-to-all, ping-interval, " +
                "revalidate-every, resolution-interval, park-writes, parking-timeout, loss-detection, keep-alive, " +
                TLS_SETTINGS
        const val SPEC_SETTINGS =
            "group, master-name, host, port, uri, username, password, database, client-name, connect-timeout, " +
                "command-timeout, read-from, balancer, read-your-writes, durability, durability-timeout, idempotent, " +
                "pool-size, pool-wait, connection-scope, keep-alive, " + TLS_SETTINGS
    }
}
