package picket.testkit

/**
 * TLS for a test topology ([TopologyConfig.tls]): every node listens with TLS only (`port 0`, `tls-port`), replicas
 * and sentinels connect over TLS (`tls-replication yes`), with certificates the test kit generates ([TlsFiles]).
 *
 * Data nodes and sentinels get certificates from two different authorities, so that a client can be shown to
 * trust each for its own: [TlsFiles.dataAuthority] signs the data nodes', [TlsFiles.sentinelAuthority] the
 * sentinels'. The servers trust both (they are each other's clients).
 *
 * @property certificateNames the names the node certificates carry (subject alternative names): IP addresses as
 *   such, anything else as a DNS name. The default names the loopback address nodes are announced with and
 *   `localhost`; leave `127.0.0.1` out to see a host name check fail.
 * @property requireClientCertificates `tls-auth-clients yes` instead of `optional`: a client without a certificate
 *   signed by one of the authorities is refused (use [TlsFiles.clientCertificate]).
 */
public class TopologyTls(
    public val certificateNames: List<String> = listOf("localhost", "127.0.0.1"),
    public val requireClientCertificates: Boolean = false,
) {
    init {
        require(certificateNames.isNotEmpty()) { "certificateNames is empty: a certificate needs a name" }
        certificateNames.forEach {
            require(it.matches(Regex("[A-Za-z0-9.:-]+"))) { "certificate name '$it' must match [A-Za-z0-9.:-]+" }
        }
    }

    override fun toString(): String =
        "TopologyTls(certificateNames=$certificateNames, requireClientCertificates=$requireClientCertificates)"
}
