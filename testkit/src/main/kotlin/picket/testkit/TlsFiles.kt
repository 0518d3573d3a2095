package picket.testkit

import picket.testkit.internal.Certificates
import java.nio.file.Files
import java.nio.file.Path

/**
 * The PEM files of a TLS topology ([Topology.tls]), generated at start in the topology's folder and deleted with
 * it: two authorities, a certificate and PKCS#8 key for the data nodes, one for the sentinels, and one for
 * clients (signed by the data authority) for mutual TLS.
 *
 * @property dataAuthority the certificate of the authority that signed the data nodes' and the client's.
 * @property sentinelAuthority the certificate of the authority that signed the sentinels'.
 * @property bothAuthorities both authorities in one file: what the servers trust.
 */
public class TlsFiles private constructor(
    public val directory: Path,
) {
    public val dataAuthority: Path = directory.resolve("data-ca.crt")
    public val sentinelAuthority: Path = directory.resolve("sentinel-ca.crt")
    public val bothAuthorities: Path = directory.resolve("both-ca.crt")

    /** The data nodes' certificate, signed by [dataAuthority]. */
    public val dataCertificate: Path = directory.resolve("data.crt")

    /** The data nodes' private key. */
    public val dataKey: Path = directory.resolve("data.key")

    /** The sentinels' certificate, signed by [sentinelAuthority]. */
    public val sentinelCertificate: Path = directory.resolve("sentinel.crt")

    /** The sentinels' private key. */
    public val sentinelKey: Path = directory.resolve("sentinel.key")

    /** A client certificate, signed by [dataAuthority], for `tls-auth-clients yes`. */
    public val clientCertificate: Path = directory.resolve("client.crt")

    /** The client certificate's private key. */
    public val clientKey: Path = directory.resolve("client.key")

    override fun toString(): String = "TlsFiles($directory)"

    internal companion object {
        /** Generates every file under [directory] for certificates naming [names]. */
        @JvmSynthetic
        fun generate(
            directory: Path,
            names: List<String>,
        ): TlsFiles {
            Files.createDirectories(directory)
            val files = TlsFiles(directory)
            val data = Certificates.authority("Picket test data CA")
            val sentinel = Certificates.authority("Picket test sentinel CA")
            data.writeCertificate(files.dataAuthority)
            sentinel.writeCertificate(files.sentinelAuthority)
            Files.writeString(
                files.bothAuthorities,
                Files.readString(files.dataAuthority) + Files.readString(files.sentinelAuthority),
            )
            data.issue("picket-data", names).write(files.dataCertificate, files.dataKey)
            sentinel.issue("picket-sentinel", names).write(files.sentinelCertificate, files.sentinelKey)
            data.issue("picket-client", emptyList()).write(files.clientCertificate, files.clientKey)
            return files
        }
    }
}
