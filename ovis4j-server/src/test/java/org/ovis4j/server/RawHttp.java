package org.ovis4j.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * HTTP/1.1 over a plain socket, one request per connection: what a fuzzer needs that a real client
 * refuses to send (broken framing, bad bytes, bodies in slow pieces). The answer's status is read
 * from the status line; -1 when the server closed the connection without one.
 */
final class RawHttp {
    record Answer(int status, String head, String body) {}

    private RawHttp() {}

    /** Sends {@code head} (request line and headers, CRLF-terminated, without the blank line) then the body pieces, pausing between them. */
    static Answer exchange(int port, String head, List<byte[]> pieces, long pauseMillis) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            // The body is written on its own thread, so that a server answering early (413) is heard.
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    out.write((head + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    for (byte[] p : pieces) {
                        out.write(p);
                        out.flush();
                        if (pauseMillis > 0) Thread.sleep(pauseMillis);
                    }
                    out.flush();
                } catch (IOException | InterruptedException e) {
                    // the server closed first: its answer, if any, is read below
                }
            });
            byte[] answer = readAll(s.getInputStream());
            writer.join();
            String text = new String(answer, StandardCharsets.UTF_8);
            if (!text.startsWith("HTTP/1.1 ")) return new Answer(-1, text, "");
            int status = Integer.parseInt(text.substring(9, 12));
            int split = text.indexOf("\r\n\r\n");
            return new Answer(status, split < 0 ? text : text.substring(0, split), split < 0 ? "" : text.substring(split + 4));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int r; (r = in.read(buf)) > 0; ) b.write(buf, 0, r);
        } catch (java.net.SocketException e) {
            // a reset after the answer: what was read is the answer
        }
        return b.toByteArray();
    }

    /** A POST of {@code body} with its length and Connection: close. */
    static String postHead(String path, long contentLength, String contentType) {
        return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + (contentType == null ? "" : "Content-Type: " + contentType + "\r\n")
                + (contentLength < 0 ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + contentLength + "\r\n");
    }
}
