package picket.core.internal.config

import picket.core.Address
import picket.core.InvalidSpecException
import picket.core.Tls
import java.nio.file.Path
import java.time.Duration

/**
 * The settings of one group or spec in properties (`tls.jdk-trust` → `true`), read one by one; every error names
 * the full key ([prefix] + setting) and never the value of a secret. [finish] refuses the settings nobody read.
 */
internal class Settings(
    private val prefix: String,
    values: Map<String, String>,
) {
    private val values = LinkedHashMap(values)

    /** The full key of [setting], for messages. */
    fun key(setting: String): String = if (setting.isEmpty()) prefix.removeSuffix(".") else prefix + setting

    fun string(setting: String): String? = values.remove(setting)?.trim()?.ifEmpty { null }

    /** A secret: read as given (spaces kept), never quoted. */
    fun secret(setting: String): String? = values.remove(setting)?.ifEmpty { null }

    fun duration(setting: String): Duration? =
        string(setting)?.let {
            ConfigText.duration(it) ?: invalid(setting, "'$it' is not a duration (${ConfigText.DURATION_FORMS})")
        }

    fun boolean(setting: String): Boolean? =
        string(setting)?.let { ConfigText.boolean(it) ?: invalid(setting, "'$it' is not true or false") }

    fun int(setting: String): Int? =
        string(setting)?.let {
            it.toIntOrNull()
                ?: invalid(setting, "'$it' is not a number")
        }

    fun path(setting: String): Path? = string(setting)?.let { Path.of(it) }

    /** `host:port` addresses separated by commas. */
    fun addresses(setting: String): List<Address>? =
        string(setting)?.let { text ->
            text.split(',').map { it.trim() }.map { address ->
                try {
                    Address.parse(address)
                } catch (e: InvalidSpecException) {
                    invalid(setting, e.message.orEmpty())
                }
            }
        }

    /** One of [choices] (by its written form), or null if the setting is absent. */
    fun <T> choice(
        setting: String,
        choices: Map<String, T>,
    ): T? =
        string(setting)?.let {
            choices[it.lowercase()] ?: invalid(setting, "'$it' is not one of ${choices.keys.joinToString()}")
        }

    /** The `tls.*` settings as a [Tls], or null if none is given. */
    fun tls(): Tls? {
        val certificates = path("tls.trusted-certificates")
        val store = path("tls.trust-store")
        val storePassword = secret("tls.trust-store-password")
        val jdkTrust = boolean("tls.jdk-trust")
        val clientCertificate = path("tls.client-certificate")
        val clientKey = path("tls.client-key")
        val verifyHostname = boolean("tls.verify-hostname")
        val given = listOf(certificates, store, storePassword, jdkTrust, clientCertificate, clientKey, verifyHostname)
        if (given.all { it == null }) return null
        return built("tls") {
            Tls(
                trustedCertificates = certificates,
                trustStore = store,
                trustStorePassword = storePassword,
                jdkTrust = jdkTrust ?: false,
                clientCertificate = clientCertificate,
                clientKey = clientKey,
                verifyHostname = verifyHostname ?: true,
            )
        }
    }

    /** Runs a constructor that validates, and names [setting] in the error it throws. */
    fun <T> built(
        setting: String,
        build: () -> T,
    ): T =
        try {
            build()
        } catch (e: InvalidSpecException) {
            invalid(setting, e.message.orEmpty())
        }

    fun invalid(
        setting: String,
        message: String,
    ): Nothing = throw InvalidSpecException("${key(setting)}: $message")

    /** @throws InvalidSpecException naming every key that is not a known setting. */
    fun finish(known: String) {
        if (values.isNotEmpty()) {
            throw InvalidSpecException(
                "unknown key(s) ${values.keys.joinToString { prefix + it }}; known settings: $known",
            )
        }
    }
}
