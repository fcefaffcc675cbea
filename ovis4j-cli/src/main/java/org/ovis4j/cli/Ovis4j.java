package org.ovis4j.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.CancellationException;
import org.ovis4j.core.OvisException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ovis4j} command: one subcommand per job; errors are one line on stderr and exit code 1. */
@Command(name = "ovis4j", mixinStandardHelpOptions = true, versionProvider = Ovis4j.Version.class,
        description = "Ovis-Image text-to-image on the JVM.",
        subcommands = {GenerateCommand.class, TokenizeCommand.class, InfoCommand.class, SynthCommand.class, QuantizeCommand.class, BenchCommand.class,
                TrainCommand.class, org.ovis4j.data.cli.DataCommand.class, org.ovis4j.eval.cli.EvalCommand.class,
                CommandLine.HelpCommand.class})
public final class Ovis4j implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (generate, tokenize, info, synth, quantize, bench, train, data, eval)");
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println("ovis4j: out of memory (raise the heap with OVIS4J_HEAP, e.g. OVIS4J_HEAP=16g)");
            code = 1;
        }
        System.exit(code);
    }

    /** The configured command line, also used by tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Ovis4j());
        cli.setExecutionExceptionHandler(Ovis4j::onError);
        cli.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("ovis4j: " + ex.getMessage());
            err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            return 2;
        });
        return cli;
    }

    /** Known failures print one line; anything else is a bug, shown with its stack trace only when OVIS4J_DEBUG is set. */
    private static int onError(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        String message = switch (e) {
            case OvisException o -> o.getMessage();
            case CancellationException c -> "cancelled";
            case NoSuchFileException n -> n.getFile() + ": file not found";
            case AccessDeniedException a -> a.getFile() + ": permission denied";
            default -> "internal error: " + e + (System.getenv("OVIS4J_DEBUG") == null ? " (set OVIS4J_DEBUG=1 for details)" : "");
        };
        err.println("ovis4j: " + message);
        if (System.getenv("OVIS4J_DEBUG") != null) e.printStackTrace(err);
        err.flush();
        return 1;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Ovis4j.class.getPackage().getImplementationVersion();
            return new String[] {"ovis4j " + (v != null ? v : "(development build)") + ", Java " + Runtime.version()};
        }
    }
}
