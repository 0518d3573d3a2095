package picket.testkit.internal

import org.bouncycastle.asn1.x500.X500Name
import org.bouncycastle.asn1.x509.BasicConstraints
import org.bouncycastle.asn1.x509.Extension
import org.bouncycastle.asn1.x509.GeneralName
import org.bouncycastle.asn1.x509.GeneralNames
import org.bouncycastle.asn1.x509.KeyUsage
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder
import java.math.BigInteger
import java.nio.file.Files
import java.nio.file.Path
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.SecureRandom
import java.security.cert.X509Certificate
import java.time.Duration
import java.time.Instant
import java.util.Base64
import java.util.Date

/** Certificates for test topologies, made with Bouncy Castle: EC P-256 keys, valid from a day ago for a week. */
internal object Certificates {
    private val random = SecureRandom()
    private val VALIDITY = Duration.ofDays(7)
    private const val SIGNATURE = "SHA256withECDSA"
    private const val SERIAL_BITS = 64
    private const val LINE = 64

    /** A key and its certificate. */
    class Issued(
        val keyPair: KeyPair,
        val certificate: X509Certificate,
    ) {
        fun writeCertificate(path: Path) {
            Files.writeString(path, pem("CERTIFICATE", certificate.encoded))
        }

        fun write(
            certificate: Path,
            key: Path,
        ) {
            writeCertificate(certificate)
            // Java encodes private keys as PKCS#8, which both OpenSSL and Netty read.
            Files.writeString(key, pem("PRIVATE KEY", keyPair.private.encoded))
        }

        /** A certificate for [commonName] with [names] as subject alternative names, signed by this authority. */
        fun issue(
            commonName: String,
            names: List<String>,
        ): Issued {
            val keys = keyPair()
            val builder = builder(X500Name(certificate.subjectX500Principal.name), "CN=$commonName", keys)
            builder.addExtension(Extension.basicConstraints, true, BasicConstraints(false))
            builder.addExtension(
                Extension.keyUsage,
                true,
                KeyUsage(KeyUsage.digitalSignature or KeyUsage.keyEncipherment or KeyUsage.keyAgreement),
            )
            if (names.isNotEmpty()) {
                val general =
                    names.map {
                        if (it.first().isDigit() || ':' in it) {
                            GeneralName(GeneralName.iPAddress, it)
                        } else {
                            GeneralName(GeneralName.dNSName, it)
                        }
                    }
                builder.addExtension(Extension.subjectAlternativeName, false, GeneralNames(general.toTypedArray()))
            }
            return Issued(keys, sign(builder, keyPair))
        }
    }

    /** A self-signed authority named [commonName]. */
    fun authority(commonName: String): Issued {
        val keys = keyPair()
        val builder = builder(X500Name("CN=$commonName"), "CN=$commonName", keys)
        builder.addExtension(Extension.basicConstraints, true, BasicConstraints(true))
        builder.addExtension(Extension.keyUsage, true, KeyUsage(KeyUsage.keyCertSign or KeyUsage.cRLSign))
        return Issued(keys, sign(builder, keys))
    }

    private fun keyPair(): KeyPair =
        KeyPairGenerator.getInstance("EC").apply { initialize(256, random) }.generateKeyPair()

    private fun builder(
        issuer: X500Name,
        subject: String,
        keys: KeyPair,
    ): JcaX509v3CertificateBuilder {
        val now = Instant.now()
        return JcaX509v3CertificateBuilder(
            issuer,
            BigInteger(SERIAL_BITS, random),
            Date.from(now.minus(Duration.ofDays(1))),
            Date.from(now.plus(VALIDITY)),
            X500Name(subject),
            keys.public,
        )
    }

    private fun sign(
        builder: JcaX509v3CertificateBuilder,
        issuerKeys: KeyPair,
    ): X509Certificate =
        JcaX509CertificateConverter().getCertificate(
            builder.build(JcaContentSignerBuilder(SIGNATURE).build(issuerKeys.private)),
        )

    private fun pem(
        type: String,
        der: ByteArray,
    ): String {
        val body = Base64.getMimeEncoder(LINE, "\n".toByteArray()).encodeToString(der)
        return "-----BEGIN $type-----\n$body\n-----END $type-----\n"
    }
}
