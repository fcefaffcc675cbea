package org.ovis4j.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.ThreadCount;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ovis4j} command: one subcommand per job; errors are one line on stderr and exit code 1
 * (2 for a bad invocation: options, arguments that are not UTF-8, an invalid environment variable).
 * Arguments are read as UTF-8 whatever the locale ({@link ProcessArguments}).
 */
@Command(name = "ovis4j", mixinStandardHelpOptions = true, versionProvider = Ovis4j.Version.class,
        description = "Ovis-Image text-to-image on the JVM.",
        subcommands = {GenerateCommand.class, ServeCommand.class, PullCommand.class, TokenizeCommand.class, InfoCommand.class, SynthCommand.class, QuantizeCommand.class, BenchCommand.class,
                TrainCommand.class, org.ovis4j.data.cli.DataCommand.class, org.ovis4j.eval.cli.EvalCommand.class,
                CommandLine.HelpCommand.class})
public final class Ovis4j implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (generate, serve, pull, tokenize, info, synth, quantize, bench, train, data, eval)");
    }

    public static void main(String[] jvmArgs) {
        int code;
        try {
            // Settings the whole run depends on fail here, before any command starts its work.
            ThreadCount.configured();
            code = commandLine().execute(ProcessArguments.of(jvmArgs));
        } catch (OvisException e) {
            System.err.println("ovis4j: " + e.getMessage());
            code = 2;
        } catch (OutOfMemoryError e) {
            System.err.println("ovis4j: out of memory (raise the heap with OVIS4J_HEAP, e.g. OVIS4J_HEAP=16g)");
            code = 1;
        }
        System.exit(code);
    }

    /** The configured command line, also used by tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Ovis4j());
        // eval lives in the data module, which knows no VAE; its vae subcommand needs the model and train modules
        cli.getSubcommands().get("eval").addSubcommand("vae", new EvalVaeCommand());
        cli.registerConverter(Path.class, Ovis4j::path);
        cli.setExecutionExceptionHandler(Ovis4j::onError);
        cli.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("ovis4j: " + ex.getMessage());
            err.println("Run '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for usage.");
            return 2;
        });
        return cli;
    }

    /**
     * A file-name argument. The JVM encodes file names with the locale's charset: in the POSIX locale a
     * non-ASCII name cannot be one at all (bin/ovis4j runs the JVM in a UTF-8 locale, so this is for a
     * JVM started otherwise), and the error says how to fix it rather than quoting the JDK's exception.
     */
    static Path path(String name) {
        try {
            return Path.of(name);
        } catch (InvalidPathException e) {
            throw new CommandLine.TypeConversionException("'" + name + "' cannot be a file name in the JVM's file-name encoding "
                    + System.getProperty("sun.jnu.encoding") + " (run bin/ovis4j, or start java in a UTF-8 locale, e.g. LC_ALL=C.UTF-8)");
        }
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
