package org.ovis4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.ovis4j.core.OvisException;

/**
 * Text given as a file ({@code --prompt-file}, {@code --negative-prompt-file}): UTF-8, strictly decoded
 * whatever the locale; {@code -} is standard input. A leading byte-order mark and one final line
 * ending ({@code \n} or {@code \r\n}) are dropped, since editors and {@code echo} add them and they are
 * not part of the prompt; everything else, inner line breaks included, is the prompt as written.
 */
final class PromptFile {
    static final String STANDARD_INPUT = "-";

    private PromptFile() {}

    static boolean isStandardInput(Path file) {
        return file != null && file.toString().equals(STANDARD_INPUT);
    }

    static String read(Path file) {
        byte[] bytes;
        String what;
        try {
            if (isStandardInput(file)) {
                what = "standard input";
                bytes = System.in.readAllBytes();
            } else {
                what = file.toString();
                if (Files.isDirectory(file)) throw new OvisException(file + ": is a folder, not a prompt file");
                if (!Files.exists(file)) throw new OvisException(file + ": file not found");
                bytes = Files.readAllBytes(file);
            }
        } catch (IOException e) {
            throw new OvisException((isStandardInput(file) ? "standard input" : file.toString()) + ": cannot read (" + e.getMessage() + ")");
        }
        String text = StrictUtf8.decode(bytes, what);
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        if (text.endsWith("\r\n")) return text.substring(0, text.length() - 2);
        if (text.endsWith("\n")) return text.substring(0, text.length() - 1);
        return text;
    }
}
