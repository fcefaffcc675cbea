package org.ovis4j.onednn;

import org.ovis4j.core.OvisException;

/** Run in a child JVM by the tests: prints "created" or "refused: <message>". */
public final class CreateProbe {
    public static void main(String[] args) {
        try {
            System.out.println("created " + OneDnnMatmul.create().describe());
        } catch (OvisException e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
