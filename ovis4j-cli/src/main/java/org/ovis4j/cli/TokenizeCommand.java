package org.ovis4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of TEXT (no template, no special tokens added), space-separated.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR|FILE|NAMESPACE/NAME[@REV]",
            description = "A checkpoint folder, a folder holding tokenizer.json, the file itself, or a Hugging Face model from the Hub cache.")
    String model;

    @Option(names = "--pull", description = "Download the --model from the Hub into the cache first, as ovis4j pull does.")
    boolean pull;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT", description = "The text to tokenize (or give --prompt-file).")
    String text;

    @Option(names = "--prompt-file", paramLabel = "FILE",
            description = "Tokenize the text of FILE instead (UTF-8; - is standard input; one final line ending is dropped).")
    Path promptFile;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if ((text == null) == (promptFile == null))
            throw new ParameterException(spec.commandLine(), "give the text to tokenize either as TEXT or as --prompt-file FILE"
                    + (text == null ? "" : ", not both"));
        String input = text != null ? text : PromptFile.read(promptFile);
        Qwen3Tokenizer tokenizer = Qwen3Tokenizer.load(tokenizerJson(ModelOption.resolve(model, pull)));
        StringJoiner line = new StringJoiner(" ");
        for (int id : tokenizer.encode(input)) line.add(Integer.toString(id));
        System.out.println(line);
        return 0;
    }

    static Path tokenizerJson(Path p) {
        if (Files.isRegularFile(p)) return p;
        if (Files.isRegularFile(p.resolve("tokenizer.json"))) return p.resolve("tokenizer.json");
        if (!Files.isDirectory(p)) throw new OvisException(p + ": not found");
        try {
            return CheckpointFolder.detect(p).tokenizerJson();
        } catch (OvisException e) {
            throw new OvisException(p + ": no tokenizer.json here or in a checkpoint layout");
        }
    }
}
