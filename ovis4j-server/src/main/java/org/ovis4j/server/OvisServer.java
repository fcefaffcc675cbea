package org.ovis4j.server;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.ovis4j.core.OvisException;
import org.ovis4j.server.api.ImageRequestMapping;
import org.ovis4j.server.api.ImagesApi;
import org.ovis4j.server.api.JobsApi;
import org.ovis4j.server.api.ModelState;
import org.ovis4j.server.api.StatusApi;
import org.ovis4j.server.api.WebPage;
import org.ovis4j.server.http.BearerKey;
import org.ovis4j.server.http.Router;
import org.ovis4j.server.job.Generator;
import org.ovis4j.server.job.JobService;
import org.ovis4j.server.job.JobStore;
import org.ovis4j.server.metrics.Metrics;

/**
 * {@code ovis4j serve}: the JDK's HTTP server, a request per virtual thread, in front of the job
 * service. It listens at once (health answers 503 "loading", jobs on disk can be polled) and loads
 * the model behind; {@link #shutdown} is the graceful stop.
 */
public final class OvisServer {
    private final ServerOptions options;
    private final HttpServer http;
    private final ExecutorService requests;
    private final JobStore store;
    private final JobService service;
    private final ModelState model;
    private final PrintStream log;
    private final List<Generator> generators = new ArrayList<>();
    private final CountDownLatch loadDone = new CountDownLatch(1);

    private OvisServer(ServerOptions options, HttpServer http, ExecutorService requests, JobStore store, JobService service, ModelState model, PrintStream log) {
        this.options = options;
        this.http = http;
        this.requests = requests;
        this.store = store;
        this.service = service;
        this.model = model;
        this.log = log;
    }

    /**
     * Opens the data folder, resumes its jobs, listens, and loads the model ({@code loader}, called
     * once per worker) in the background.
     */
    public static OvisServer start(ServerOptions o, String modelId, Callable<Generator> loader, PrintStream log) {
        limitTheHttpServer();
        JobStore store = JobStore.open(o.data());
        HttpServer http = null;
        ExecutorService requests = null;
        try {
            Metrics metrics = new Metrics();
            JobService service = new JobService(store, o.queue(), metrics);
            log.println("ovis4j: " + service.recover());
            ModelState model = new ModelState(modelId);
            var mapping = new ImageRequestMapping(o.limits(), modelId);
            Router router = new Router(BearerKey.of(o.apiKey()), o.limits().maxBodyBytes(), metrics::response);
            new ImagesApi(service, store, mapping, model).register(router);
            new JobsApi(service, store, mapping, model).register(router);
            new StatusApi(service, metrics, model, o.limits(), o.apiKey() != null).register(router);
            new WebPage().register(router);
            http = HttpServer.create(new InetSocketAddress(o.host(), o.port()), 256);
            requests = Executors.newVirtualThreadPerTaskExecutor();
            http.setExecutor(requests);
            http.createContext("/", router);
            http.start();
            OvisServer server = new OvisServer(o, http, requests, store, service, model, log);
            if (!o.loopbackOnly() && o.apiKey() == null)
                log.println("ovis4j: warning: listening on " + o.host() + " without --api-key: anyone who can reach this port can use the server");
            log.println("ovis4j: listening on " + server.url() + " (loading " + modelId + ")");
            Thread.ofPlatform().name("ovis4j-model-load").daemon().start(() -> server.load(loader));
            return server;
        } catch (IOException | RuntimeException e) {
            if (http != null) http.stop(0);
            if (requests != null) requests.shutdownNow();
            store.close();
            if (e instanceof OvisException oe) throw oe;
            throw new OvisException("cannot listen on " + o.host() + ":" + o.port() + " (" + e.getMessage() + ")");
        }
    }

    /**
     * The JDK server's own limits, as system properties read when its classes load (so they are set
     * before the first server starts, unless the user set them): a request, body included, must
     * arrive within 30 s (slow-body clients are dropped), headers are at most 64 KiB, at most 1,000
     * connections at once, and small responses leave without Nagle's delay.
     */
    private static void limitTheHttpServer() {
        System.setProperty("sun.net.httpserver.maxReqTime", System.getProperty("sun.net.httpserver.maxReqTime", "30"));
        System.setProperty("sun.net.httpserver.maxReqHeaderSize", System.getProperty("sun.net.httpserver.maxReqHeaderSize", "65536"));
        System.setProperty("jdk.httpserver.maxConnections", System.getProperty("jdk.httpserver.maxConnections", "1000"));
        System.setProperty("sun.net.httpserver.nodelay", System.getProperty("sun.net.httpserver.nodelay", "true"));
    }

    private void load(Callable<Generator> loader) {
        try {
            long t0 = System.nanoTime();
            for (int k = 0; k < options.workers(); k++) generators.add(loader.call());
            service.start(generators);
            model.loaded();
            log.printf("ovis4j: model loaded in %.1f s; %d worker%s%n", (System.nanoTime() - t0) / 1e9, options.workers(), options.workers() == 1 ? "" : "s");
        } catch (OvisException e) {
            model.failed(e.getMessage());
            log.println("ovis4j: " + e.getMessage());
        } catch (Exception | OutOfMemoryError e) {
            model.failed(e.toString());
            log.println("ovis4j: cannot load the model: " + e);
        } finally {
            loadDone.countDown();
        }
    }

    /** Waits for the model load to end; true when it loaded. */
    public boolean awaitLoaded() throws InterruptedException {
        loadDone.await();
        return model.ready();
    }

    /** Why the model did not load, or null. */
    public String loadFailure() { return model.failure(); }

    public int port() { return http.getAddress().getPort(); }

    public String url() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port();
    }

    /**
     * Stops accepting jobs, lets running ones finish within the grace period, re-queues on disk
     * what is still running after it, and closes. Queued jobs stay on disk for the next start.
     */
    public void shutdown() throws InterruptedException {
        log.println("ovis4j: stopping: no new jobs; waiting up to " + options.shutdownGrace().toSeconds() + " s for the running ones");
        service.shutdown(options.shutdownGrace());
        http.stop(1);
        requests.shutdownNow();
        for (Generator g : generators)
            if (g instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // the process is ending
                }
            }
        store.close();
        log.println("ovis4j: stopped");
    }

    JobService service() { return service; }
}
