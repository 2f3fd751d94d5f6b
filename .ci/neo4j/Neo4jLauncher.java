import java.nio.file.Path;
import java.time.Duration;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Runs an in-process Neo4j (the test harness) for the integration tests until SIGTERM.
 *
 * <p>Usage: {@code java -cp "classes:lib/*" Neo4jLauncher WORK_DIR PORT [PAGE_CACHE_MB]}. Bolt
 * listens on 127.0.0.1:PORT without TLS or authentication; the HTTP server is off. The store lives
 * in a fresh subdirectory of WORK_DIR that {@link Neo4j#close()} deletes. Prints {@code READY
 * bolt://…} once the database accepts queries; .ci/servers/neo4j.sh waits for that line.
 */
public final class Neo4jLauncher {
  private Neo4jLauncher() {}

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      System.err.println("usage: Neo4jLauncher WORK_DIR PORT [PAGE_CACHE_MB]");
      System.exit(2);
    }
    Path workDir = Path.of(args[0]);
    int port = Integer.parseInt(args[1]);
    long pageCacheBytes = (args.length > 2 ? Long.parseLong(args[2]) : 128L) * 1024 * 1024;

    long began = System.nanoTime();
    Neo4j neo4j =
        Neo4jBuilders.newInProcessBuilder(workDir)
            .withDisabledServer()
            .withConfig(GraphDatabaseSettings.auth_enabled, false)
            // The harness default (8 MiB) makes 10k-node batches page-fault bound.
            .withConfig(GraphDatabaseSettings.pagecache_memory, pageCacheBytes)
            // A test store needs no transaction history: keep only the current log, in small
            // files, pruned at frequent checkpoints (the defaults keep gigabytes after a run).
            .withConfig(GraphDatabaseSettings.keep_logical_logs, "false")
            .withConfig(GraphDatabaseSettings.logical_log_rotation_threshold, 16L * 1024 * 1024)
            .withConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
            .withConfig(GraphDatabaseSettings.check_point_interval_time, Duration.ofSeconds(30))
            .withConfig(BoltConnector.enabled, true)
            .withConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
            .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
            .build();
    // SIGTERM runs the hook: a clean shutdown that also deletes the store directory.
    Runtime.getRuntime().addShutdownHook(new Thread(neo4j::close, "neo4j-shutdown"));

    long millis = (System.nanoTime() - began) / 1_000_000;
    System.out.println("READY " + neo4j.boltURI() + " in " + millis + " ms");
    System.out.flush();
    Thread.currentThread().join();
  }
}
