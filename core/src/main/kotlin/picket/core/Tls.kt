package picket.core

import java.nio.file.Files
import java.nio.file.Path

/**
 * TLS to data nodes ([ConnSpec.tls]) or to sentinels (`SentinelGroup.tls`), each with its own trust material: a
 * deployment whose sentinels and data nodes have certificates from different authorities trusts each for its own.
 *
 * Trust material is required: PEM certificates ([trustedCertificates]), a key store ([trustStore]), or the JDK's
 * own trusted authorities ([jdkTrust]). A client certificate ([clientCertificate] and [clientKey], PEM) is sent
 * when the servers ask for one (`tls-auth-clients yes` or `optional`).
 *
 * With [verifyHostname] (the default) the server's certificate must name the host Picket connects to: the address
 * Sentinel announces (an IP address, or a host name with Sentinel's `announce-hostnames yes`), after
 * `SentinelGroup.addressMapper`. Turning it off keeps the chain check only.
 *
 * ```kotlin
 * val tls = Tls(trustedCertificates = Path.of("/etc/redis/ca.crt"))
 * ConnSpec(sentinelGroup = "g", masterName = "orders", tls = tls)
 * ```
 * Java: `Tls.trusting(Path.of("/etc/redis/ca.crt"))`.
 *
 * @property trustedCertificates a PEM file of the certificates (authorities) to trust, or null.
 * @property trustStore a PKCS#12 or JKS key store of the certificates to trust, or null.
 * @property trustStorePassword the [trustStore]'s password, or null. Never printed.
 * @property jdkTrust trust the JDK's default authorities (`cacerts`) instead of a file.
 * @property clientCertificate a PEM certificate chain to present for mutual TLS, or null.
 * @property clientKey the PKCS#8 PEM private key of [clientCertificate], or null.
 * @property verifyHostname whether the server's certificate must name the host connected to.
 * @throws InvalidSpecException if no trust material is given, more than one is, a file is not readable, or only
 *   one of [clientCertificate] and [clientKey] is given.
 */
public data class Tls
    @JvmOverloads
    constructor(
        public val trustedCertificates: Path? = null,
        public val trustStore: Path? = null,
        public val trustStorePassword: String? = null,
        public val jdkTrust: Boolean = false,
        public val clientCertificate: Path? = null,
        public val clientKey: Path? = null,
        public val verifyHostname: Boolean = true,
    ) {
        init {
            val sources = listOfNotNull(trustedCertificates, trustStore, if (jdkTrust) "jdk" else null)
            if (sources.isEmpty()) {
                throw InvalidSpecException(
                    "TLS needs trust material: trustedCertificates (PEM), a trustStore, or jdkTrust",
                )
            }
            if (sources.size > 1) {
                throw InvalidSpecException(
                    "TLS takes one trust material, got trustedCertificates, trustStore or jdkTrust",
                )
            }
            if (trustStorePassword != null && trustStore == null) {
                throw InvalidSpecException("TLS trustStorePassword given without a trustStore")
            }
            if ((clientCertificate == null) != (clientKey == null)) {
                throw InvalidSpecException("TLS client certificate and client key go together; only one is given")
            }
            trustedCertificates?.let { readable("trustedCertificates", it) }
            trustStore?.let { readable("trustStore", it) }
            clientCertificate?.let { readable("clientCertificate", it) }
            clientKey?.let { readable("clientKey", it) }
        }

        /** This TLS presenting [certificate] with [key] (PEM files) to servers that ask for a client certificate. */
        public fun withClientCertificate(
            certificate: Path,
            key: Path,
        ): Tls = copy(clientCertificate = certificate, clientKey = key)

        /** This TLS checking the certificate chain only, not that it names the host connected to. */
        public fun withoutHostnameCheck(): Tls = copy(verifyHostname = false)

        // The password is never shown.
        override fun toString(): String =
            "Tls(trustedCertificates=$trustedCertificates, trustStore=$trustStore, " +
                "trustStorePassword=${trustStorePassword?.let { "***" }}, jdkTrust=$jdkTrust, " +
                "clientCertificate=$clientCertificate, clientKey=$clientKey, verifyHostname=$verifyHostname)"

        public companion object {
            /** TLS trusting the authorities in the PEM file [certificates]. */
            @JvmStatic
            public fun trusting(certificates: Path): Tls = Tls(trustedCertificates = certificates)

            /** TLS trusting the certificates in the PKCS#12 or JKS key store [store]. */
            @JvmStatic
            public fun trustStore(
                store: Path,
                password: String?,
            ): Tls = Tls(trustStore = store, trustStorePassword = password)

            /** TLS trusting the JDK's default authorities. */
            @JvmStatic
            public fun jdkTrust(): Tls = Tls(jdkTrust = true)

            private fun readable(
                name: String,
                path: Path,
            ) {
                if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                    throw InvalidSpecException("TLS $name '$path' is not a readable file")
                }
            }
        }
    }
