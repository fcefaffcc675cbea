package org.ovis4j.spring.ai;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;
import org.ovis4j.hub.HubModels;
import org.ovis4j.hub.HubSettings;
import org.ovis4j.hub.PullListener;

/** Where the checkpoint that {@code spring.ai.ovis4j.model} names is. */
public final class Ovis4jModelLocation {
    static final String PROPERTY = Ovis4jProperties.PREFIX + ".model";
    /** ORG/NAME or ORG/NAME@REVISION, as Hugging Face names repositories. */
    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@[\\w./-]+)?");

    private Ovis4jModelLocation() {}

    /** {@link #resolve(String, boolean, HubSettings)} from the cache only, with this process's Hugging Face environment. */
    public static Path resolve(String model) {
        return resolve(model, false, HubSettings.fromEnvironment());
    }

    /**
     * The checkpoint folder for the property's value. Every way of naming a model goes through this
     * one method: a folder (absolute, or relative to the working directory), or a Hugging Face hub id
     * ({@code ORG/NAME[@REV]}) found in the shared Hugging Face cache, the one Python's
     * huggingface_hub and {@code ovis4j pull} write ({@link HubModels}), downloaded first when
     * {@code pull} ({@code spring.ai.ovis4j.pull}) is true.
     *
     * @param model the value of {@code spring.ai.ovis4j.model}
     * @return an existing folder (whether it holds a checkpoint is checked when it loads)
     * @throws OvisException one line naming the property and what is wrong with its value
     */
    public static Path resolve(String model, boolean pull, HubSettings hub) {
        if (model == null || model.isBlank())
            throw new OvisException(PROPERTY + " is not set: give the folder of an Ovis-Image checkpoint");
        Path dir;
        try {
            dir = Path.of(model.strip());
        } catch (InvalidPathException e) {
            throw new OvisException(PROPERTY + "=" + model + " is not a valid path (" + e.getReason() + ")");
        }
        if (Files.isDirectory(dir)) return dir;
        if (Files.exists(dir)) throw new OvisException(PROPERTY + "=" + model + " is a file, not a checkpoint folder");
        String where = " (" + dir.toAbsolutePath().normalize() + ")";
        if (HUB_ID.matcher(model.strip()).matches()) {
            try {
                return HubModels.resolve(model.strip(), null, pull, hub, PullListener.NONE);
            } catch (OvisException e) {
                throw new OvisException(PROPERTY + "=" + e.getMessage());
            }
        }
        throw new OvisException(PROPERTY + "=" + model + ": no such folder" + where);
    }
}
