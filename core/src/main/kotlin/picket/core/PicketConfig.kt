package picket.core

import picket.core.internal.config.ConfigReader
import java.util.Properties

/**
 * Sentinel groups and specs read from properties, as Java applications keep their settings: a `.properties` file,
 * system properties, or any `Map<String, String>` (Spring's environment, environment variables renamed).
 *
 * ```properties
 * picket.sentinel-groups.main.sentinels=10.0.0.1:26379,10.0.0.2:26379
 * picket.sentinel-groups.main.password=sentinel-secret
 * picket.sentinel-groups.main.connect-timeout=500ms
 * picket.specs.orders.group=main
 * picket.specs.orders.master-name=mymaster
 * picket.specs.orders.password=secret
 * picket.specs.orders-reads.group=main
 * picket.specs.orders-reads.master-name=mymaster
 * picket.specs.orders-reads.read-from=prefer-replica
 * ```
 * ```java
 * PicketConfig config = PicketConfig.from(properties);
 * Picket picket = Picket.builder().sentinelGroups(config.sentinelGroups()).build();
 * ConnSpec orders = config.spec("orders");
 * ```
 *
 * Every setting of [SentinelGroup] and [ConnSpec] has a key (core/README.md, "Configuration", lists them);
 * durations are ISO-8601 (`PT2S`) or a number with a unit (`500ms`, `2s`, `1m`). Keys that do not start with the
 * prefix are skipped; an unknown key under it is an error, so that a misspelt setting does not silently keep its
 * default. A spec may name a group declared elsewhere: the group is looked up when a block runs.
 *
 * @property sentinelGroups the groups, by name.
 * @property specs the specs, by name.
 */
public class PicketConfig private constructor(
    @get:JvmName("sentinelGroups") public val sentinelGroups: Map<String, SentinelGroup>,
    @get:JvmName("specs") public val specs: Map<String, ConnSpec>,
) {
    /**
     * The spec named [name].
     *
     * @throws InvalidSpecException if the configuration has no such spec (the message lists those it has).
     */
    public fun spec(name: String): ConnSpec =
        specs[name] ?: throw InvalidSpecException(
            "no spec '$name' in the configuration (specs: ${specs.keys.joinToString().ifEmpty { "none" }})",
        )

    // The passwords are never shown: the groups' and specs' own toString() hide them.
    override fun toString(): String = "PicketConfig(sentinelGroups=$sentinelGroups, specs=$specs)"

    public companion object {
        /** The prefix of Picket's keys unless told otherwise: `picket.`. */
        public const val DEFAULT_PREFIX: String = "picket."

        /**
         * The groups and specs in [properties] under [prefix] (defaults included: `Properties.getProperty` is read).
         *
         * @throws InvalidSpecException naming the key that is wrong, never a password's value.
         */
        @JvmStatic
        @JvmOverloads
        public fun from(
            properties: Properties,
            prefix: String = DEFAULT_PREFIX,
        ): PicketConfig = from(properties.stringPropertyNames().associateWith { properties.getProperty(it) }, prefix)

        /**
         * The groups and specs in [values] under [prefix].
         *
         * @throws InvalidSpecException naming the key that is wrong, never a password's value.
         */
        @JvmStatic
        @JvmOverloads
        public fun from(
            values: Map<String, String>,
            prefix: String = DEFAULT_PREFIX,
        ): PicketConfig {
            val result = ConfigReader(prefix).read(values)
            return PicketConfig(result.groups, result.specs)
        }
    }
}
