package picket.samples;

import picket.core.Address;
import picket.core.ConnSpec;
import picket.core.Tls;
import picket.core.Picket;
import picket.core.SentinelGroup;
import picket.testkit.RedisBinary;
import picket.testkit.TlsFiles;
import picket.testkit.Topology;
import picket.testkit.TopologyConfig;
import picket.testkit.TopologyTls;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Picket over TLS from Java: the sentinels and the data nodes each trusted for their own authority, with a client
 * certificate, on a TLS-only topology whose certificates the test kit generates.
 */
public final class TlsFromJava {
    private TlsFromJava() {
    }

    public static void main(String[] args) throws Exception {
        String unsupported = RedisBinary.locate().getTlsUnsupportedReason();
        if (unsupported != null) {
            System.out.println("TLS skipped: " + unsupported);
            return;
        }
        TopologyConfig config = TopologyConfig.builder()
                .replicasPerMaster(1)
                .tls(new TopologyTls(List.of("localhost", "127.0.0.1"), true))
                .build();
        try (Topology topology = Topology.start(config); Picket picket = new Picket()) {
            TlsFiles files = topology.getTls();
            List<Address> sentinels = topology.getSentinels().stream()
                    .map(node -> new Address(node.getHost(), node.getPort()))
                    .collect(Collectors.toList());
            Tls sentinelTls = Tls.trusting(files.getSentinelAuthority())
                    .withClientCertificate(files.getClientCertificate(), files.getClientKey());
            Tls dataTls = Tls.trusting(files.getDataAuthority())
                    .withClientCertificate(files.getClientCertificate(), files.getClientKey());
            picket.setSentinelGroups(Map.of("secure", new SentinelGroup(sentinels).tls(sentinelTls)));

            ConnSpec spec = ConnSpec.sentinel("secure", "mymaster").tls(dataTls).build();
            System.out.println("SET over TLS -> " + picket.blocking().withConn(spec, redis -> redis.set("secret", "42")));
            System.out.println("GET over TLS -> " + picket.blocking().withConn(spec, redis -> redis.get("secret")));
        }
    }
}
