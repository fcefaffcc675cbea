package org.ovis4j.spring.ai;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/** Where the checkpoint that {@code spring.ai.ovis4j.model} names is. */
public final class Ovis4jModelLocation {
    static final String PROPERTY = Ovis4jProperties.PREFIX + ".model";
    /** ORG/NAME or ORG/NAME@REVISION, as Hugging Face names repositories. */
    private static final Pattern HUB_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@[\\w./-]+)?");

    private Ovis4jModelLocation() {}

    /**
     * The checkpoint folder for the property's value. Every way of naming a model goes through this
     * one method: today a folder (absolute, or relative to the working directory); a Hugging Face
     * hub id ({@code ORG/NAME[@REV]}) is an error that says so, until it is resolved here through the
     * shared Hugging Face cache.
     *
     * @param model the value of {@code spring.ai.ovis4j.model}
     * @return an existing folder (whether it holds a checkpoint is checked when it loads)
     * @throws OvisException one line naming the property and what is wrong with its value
     */
    public static Path resolve(String model) {
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
        if (HUB_ID.matcher(model.strip()).matches())
            throw new OvisException(PROPERTY + "=" + model + ": no such folder" + where
                    + ", and Hugging Face hub ids are not resolved yet: download the model and give its folder");
        throw new OvisException(PROPERTY + "=" + model + ": no such folder" + where);
    }
}
