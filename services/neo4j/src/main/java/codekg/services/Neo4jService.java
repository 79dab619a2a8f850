package codekg.services;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * An embedded Neo4j Community DBMS serving Bolt on loopback until the process is killed.
 *
 * <p>Usage: {@code java -jar neo4j-service.jar <home-dir> <bolt-port>}. Auth is off because it is
 * a throwaway test service bound to 127.0.0.1 only, whose data does not outlive the process. Prints {@code NEO4J_READY <address>} once the
 * default database answers a query, so a supervisor can wait for that line.
 */
public final class Neo4jService {
    private Neo4jService() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: Neo4jService <home-dir> <bolt-port>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        long t0 = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // A test graph is small: keep the page cache and tx logs modest.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(128))
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(32))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .build();
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        db.executeTransactionally("RETURN 1");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("NEO4J_READY bolt://127.0.0.1:" + port + " in " + ms + " ms");
        System.out.flush();
        // No shutdown hook on purpose: the data directory is thrown away by the next start, and
        // a clean dbms.shutdown() spends ~10 s in Bolt's graceful network shutdown. SIGTERM
        // simply ends the JVM (which is also when it writes a requested CDS archive).
        new CountDownLatch(1).await();
    }
}
