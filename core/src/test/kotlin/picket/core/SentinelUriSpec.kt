package picket.core

import io.kotest.assertions.throwables.shouldThrowExactly
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.time.Duration

/** `redis-sentinel://` and `redis://` URIs in Lettuce's syntax: what each part becomes, and typed errors. */
class SentinelUriSpec :
    FunSpec({
        test("a full sentinel URI gives the group and, under a name, the spec") {
            val uri =
                SentinelUri.parse(
                    "redis-sentinel://app:data-secret@10.0.0.1,10.0.0.2:26380,[::1]:26381/2" +
                        "?timeout=1500ms&clientName=billing&sentinelUsername=watcher&sentinelPassword=s%23cret#orders",
                )
            uri.masterName shouldBe "orders"
            uri.group.sentinels shouldBe
                listOf(Address("10.0.0.1", 26379), Address("10.0.0.2", 26380), Address("::1", 26381))
            uri.group.username shouldBe "watcher"
            uri.group.password shouldBe "s#cret"
            uri.group.tls shouldBe null
            val spec = uri.spec("main")
            spec.target shouldBe SpecTarget.Sentinel("main", "orders")
            spec.username shouldBe "app"
            spec.password shouldBe "data-secret"
            spec.database shouldBe 2
            spec.clientName shouldBe "billing"
            spec.commandTimeout shouldBe Duration.ofMillis(1500)
            spec.tls shouldBe null
            uri.toString() shouldNotContain "data-secret"
            uri.toString() shouldNotContain "s#cret"
        }

        test("the master name comes from the fragment or sentinelMasterId; both must agree") {
            SentinelUri.parse("redis-sentinel://h?sentinelMasterId=m1").masterName shouldBe "m1"
            SentinelUri.parse("redis-sentinel://h?sentinelMasterId=m1#m1").masterName shouldBe "m1"
            shouldThrowExactly<InvalidSpecException> {
                SentinelUri.parse("redis-sentinel://h?sentinelMasterId=m1#m2")
            }.message shouldBe "the URI names two master names: #m2 and sentinelMasterId=m1"
            shouldThrowExactly<InvalidSpecException> {
                SentinelUri.parse(
                    "redis-sentinel://h:26379/0",
                )
            }.message shouldBe
                "a redis-sentinel:// URI needs the master name: #mymaster or sentinelMasterId=mymaster"
        }

        test("credentials as Lettuce reads them: user:password, :password, password; percent-decoded") {
            fun spec(userInfo: String) = SentinelUri.parse("redis-sentinel://$userInfo@h#m").spec("g")
            spec("u:p").let { (it.username to it.password) shouldBe ("u" to "p") }
            spec(":p").let { (it.username to it.password) shouldBe (null to "p") }
            spec("p").let { (it.username to it.password) shouldBe (null to "p") }
            // '/', ':' and '@' may stay unencoded in a password (a base64 one, say); '%40' is '@', '+' stays '+'.
            spec("u:a/b:c@d%40e+f").password shouldBe "a/b:c@d@e+f"
        }

        test("the database is in the path or the query, the query winning as in Lettuce") {
            SentinelUri.parse("redis-sentinel://h/3#m").spec("g").database shouldBe 3
            SentinelUri.parse("redis-sentinel://h/3?database=5#m").spec("g").database shouldBe 5
            SentinelUri.parse("redis-sentinel://h?db=7#m").spec("g").database shouldBe 7
        }

        context("timeouts in Lettuce's units, a bare number being milliseconds") {
            withData(
                nameFn = { "timeout=${it.first}" },
                "250" to Duration.ofMillis(250),
                "2s" to Duration.ofSeconds(2),
                "1m" to Duration.ofMinutes(1),
                "1500000us" to Duration.ofMillis(1500),
                "PT3S" to Duration.ofSeconds(3),
            ) { (text, expected) ->
                SentinelUri.parse("redis-sentinel://h?timeout=$text#m").spec("g").commandTimeout shouldBe expected
            }
        }

        test("rediss-sentinel is TLS to sentinels and data nodes, trusting the JDK's authorities unless told") {
            val uri = SentinelUri.parse("rediss-sentinel://h#m")
            uri.group.tls shouldBe Tls.jdkTrust()
            uri.spec("g").tls shouldBe Tls.jdkTrust()
            SentinelUri.parse("rediss-sentinel://h?verifyPeer=CA#m").spec("g").tls shouldBe
                Tls.jdkTrust().withoutHostnameCheck()
        }

        test("a direct URI gives a direct spec") {
            val spec = RedisUri.direct("redis://app:pw@127.0.0.1:6380/4?timeout=3s&clientName=jobs")
            spec.target shouldBe SpecTarget.Direct(Address("127.0.0.1", 6380))
            (spec.username to spec.password) shouldBe ("app" to "pw")
            spec.database shouldBe 4
            spec.commandTimeout shouldBe Duration.ofSeconds(3)
            spec.clientName shouldBe "jobs"
            RedisUri.direct("redis://localhost").target shouldBe SpecTarget.Direct(Address("localhost", 6379))
            RedisUri.direct("rediss://localhost").tls shouldBe Tls.jdkTrust()
            RedisUri.direct("redis+ssl://localhost").tls shouldBe Tls.jdkTrust()
        }

        context("a malformed URI is an InvalidSpecException naming the part, never the password") {
            withData(
                nameFn = { it.first },
                "mysql://u:pw-secret@h#m" to "URI scheme 'mysql' is not supported",
                "redis-sentinel//u:pw-secret@h#m" to "a Redis URI starts with a scheme",
                "redis-sentinel://u:pw-secret@#m" to "redis-sentinel:// URI names no host",
                "redis-sentinel://u:pw-secret@h:port#m" to "'h:port': port is not a number",
                "redis-sentinel://u:pw-secret@h:70000#m" to "port 70000 of host 'h' is outside 1..65535",
                "redis-sentinel://u:pw-secret@::1#m" to "write an IPv6 address in brackets",
                "redis-sentinel://u:pw-secret@h,h:26379#m" to "duplicate sentinels in the URI 'h,h:26379'",
                "redis-sentinel://u:pw-secret@h/x#m" to "the path '/x': the database is not a number >= 0",
                "redis-sentinel://u:pw-secret@h?timeout=soon#m" to "timeout=soon is not a duration",
                "redis-sentinel://u:pw-secret@h?timeout=0#m" to "timeout=0 must be > 0",
                "redis-sentinel://u:pw-secret@h?tiemout=2s#m" to "unknown redis-sentinel:// URI parameter(s) tiemout",
                "redis-sentinel://u:pw-secret@h?timeout=1s&timeout=2s#m" to "URI parameter 'timeout' is given twice",
                "redis-sentinel://u:pw-secret@h?sentinelPasword=pw-secret#m" to "parameter(s) sentinelPasword:",
                "redis-sentinel://u:pw-secret@h?verifyPeer=FULL#m" to "verifyPeer=FULL applies to TLS URIs",
                "rediss-sentinel://u:pw-secret@h?verifyPeer=NONE#m" to "Picket always verifies the certificate chain",
                "redis-sentinel://u:pw-%ZZsecret@h#m" to "the URI's password: bad %-encoding (value not shown)",
                "redis-sentinel://u:pw?secret@h#m" to "the URI has an '@' after its '?' or '#'",
                "redis-sentinel://u:pw#secret@h#m" to "the URI has an '@' after its '?' or '#'",
                "redis://u:pw-secret@h1,h2" to "a redis:// URI names one node, not 2",
                "redis://u:pw-secret@h#m" to "a master name (#fragment or sentinelMasterId) applies to",
                "redis://u:pw-secret@h?sentinelPassword=pw-secret" to "sentinelUsername and sentinelPassword apply",
                "redis+tls://u:pw-secret@h" to "STARTTLS and Unix sockets are not supported",
            ) { (uri, expected) ->
                val error =
                    shouldThrowExactly<InvalidSpecException> {
                        if (uri.startsWith("redis://")) RedisUri.direct(uri) else SentinelUri.parse(uri)
                    }
                error.message shouldContain expected
                error.message shouldNotContain "secret"
            }
        }

        test("a URI of the other kind is refused by each parser") {
            shouldThrowExactly<InvalidSpecException> { SentinelUri.parse("redis://h") }.message shouldContain
                "use redis-sentinel://"
            shouldThrowExactly<InvalidSpecException> { RedisUri.direct("redis-sentinel://h#m") }.message shouldContain
                "read it with SentinelUri.parse"
            shouldThrowExactly<InvalidSpecException> {
                SentinelUri.parse("redis-sentinel://h#m", Tls.jdkTrust())
            }.message shouldBe "TLS trust given for a plain redis-sentinel:// URI: use rediss-sentinel:// or rediss://"
        }

        test("a blank group name is refused by spec()") {
            shouldThrowExactly<InvalidSpecException> { SentinelUri.parse("redis-sentinel://h#m").spec(" ") }
        }
    })
