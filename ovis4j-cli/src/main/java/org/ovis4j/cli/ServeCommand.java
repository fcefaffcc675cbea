package org.ovis4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.server.OvisImageGenerator;
import org.ovis4j.server.OvisServer;
import org.ovis4j.server.ServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over HTTP: OpenAI's images API, asynchronous jobs kept on disk, a web page at /.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint folder (diffusers or original layout).")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key", description = "Require Authorization: Bearer KEY on the API (default: $OVIS4J_API_KEY, else none).")
    String apiKey;

    @Option(names = "--queue", defaultValue = "32", description = "Jobs that may wait; more are refused with 429 (default ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-size", defaultValue = "1024x1024", paramLabel = "WxH", description = "Largest image a request may ask for (default ${DEFAULT-VALUE}).")
    String maxSize;

    @Option(names = "--max-steps", defaultValue = "50", description = "Most denoising steps a request may ask for (default ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--data", defaultValue = "ovis4j-data", description = "Folder for jobs and images; they survive restarts (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--workers", defaultValue = "1", description = "Jobs run at once, each on its own copy of the model's buffers (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--shutdown-grace", defaultValue = "30", paramLabel = "SECONDS",
            description = "On SIGTERM, how long running jobs may take to finish before they are stopped and re-queued (default ${DEFAULT-VALUE}).")
    int grace;

    @Option(names = "--precision", defaultValue = "bf16", description = "fp32, bf16 or int8, as for generate (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--backend", description = "Matmul backend: auto, java or onednn (default: $OVIS4J_BACKEND, else auto).")
    String backend;

    @Override
    public Integer call() throws Exception {
        Precision p = Precision.parse(precision);
        ComputeContext context = ComputeContext.create(backend != null ? backend.toLowerCase() : ComputeContext.requestedBackend(), p == Precision.FP32);
        int[] size = ServerOptions.parseSize(maxSize);
        if (grace < 0) throw new OvisException("--shutdown-grace must not be negative, got " + grace);
        String key = apiKey != null ? apiKey : System.getenv("OVIS4J_API_KEY");
        ServerOptions options = new ServerOptions(host, port, key, queue, size[0], size[1], maxSteps, data, workers, Duration.ofSeconds(grace));
        CheckpointFolder folder = CheckpointFolder.detect(model); // a wrong folder fails now, not after the server is up
        String modelId = folder.root().toAbsolutePath().normalize().getFileName().toString();

        OvisServer server = OvisServer.start(options, modelId, () -> new OvisImageGenerator(OvisImage.load(model, p, context)), System.err);
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            try {
                server.shutdown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopped.countDown();
            }
        };
        // SIGTERM (systemd, docker stop, kill) and Ctrl-C stop gracefully and the command returns 0.
        for (String signal : new String[] {"TERM", "INT"})
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> Thread.ofPlatform().name("ovis4j-stop").start(stop));
        if (!server.awaitLoaded()) {
            stop.run();
            throw new OvisException(server.loadFailure());
        }
        stopped.await();
        return 0;
    }
}
