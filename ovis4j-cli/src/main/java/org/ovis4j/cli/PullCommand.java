package org.ovis4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.ovis4j.core.OvisException;
import org.ovis4j.hub.FileGlob;
import org.ovis4j.hub.Hub;
import org.ovis4j.hub.HubSettings;
import org.ovis4j.hub.ModelRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a model from the Hugging Face Hub into the Hub cache, shared with Python's huggingface_hub "
                + "(blobs/, snapshots/COMMIT/ links, refs/). Only missing files are fetched; a stopped download resumes; "
                + "LFS files are checked against their sha256.",
                "Prints the snapshot folder on stdout. Environment: HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE."})
final class PullCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "NAMESPACE/NAME[@REV]", description = "The model repository, e.g. AIDC-AI/Ovis-Image-7B.")
    String repo;

    @Option(names = "--revision", paramLabel = "REV", description = "Branch, tag or commit (default main, or the @REV of the name).")
    String revision;

    @Option(names = "--endpoint", paramLabel = "URL", description = "The Hub (default: $HF_ENDPOINT, else https://huggingface.co).")
    String endpoint;

    @Option(names = "--include", paramLabel = "GLOB", description = "Only files matching GLOB (fnmatch, as huggingface_hub's allow_patterns: "
            + "* crosses folders, a trailing / takes a folder). Repeatable.")
    List<String> include = new ArrayList<>();

    @Option(names = "--workers", defaultValue = "8", description = "Files downloaded at once (default ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() {
        ModelRef model = ModelRef.parse(repo);
        if (revision != null) {
            if (repo.contains("@")) throw new OvisException("give the revision either as " + repo + " or as --revision, not both");
            model = new ModelRef(model.repo(), revision);
        }
        HubSettings settings = HubSettings.fromEnvironment();
        if (endpoint != null) {
            try {
                settings = settings.withEndpoint(endpoint);
            } catch (OvisException e) {
                throw new OvisException("--endpoint: " + e.getMessage());
            }
        }
        List<FileGlob> globs = include.stream().map(FileGlob::of).toList();
        PullProgress progress = new PullProgress(System.err, System.console() != null);
        long t0 = System.nanoTime();
        Path snapshot;
        try (Hub hub = new Hub(settings, workers, Duration.ofSeconds(1))) {
            snapshot = hub.pull(model, globs, progress);
        } finally {
            progress.finish();
        }
        System.err.printf("pulled %s in %.1f s%n", model, (System.nanoTime() - t0) / 1e9);
        System.out.println(snapshot);
        return 0;
    }
}
