package pibl.demo;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A plain TCP connection that speaks just enough HTTP/1.1 to check what a real client library would hide:
 * which bytes arrive, in which order, on which connection, and when the server closes.
 */
final class RawConnection implements AutoCloseable {

    private static final int TIMEOUT_MILLIS = 10_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** A response as read off the wire; header names in lower case. */
    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : values.get(0);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    RawConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends {@code text} as is (use {@code \r\n} line ends), in one write. */
    RawConnection send(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /** Sends {@code GET path HTTP/1.1} with a Host header. */
    RawConnection get(String path) throws IOException {
        return send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n");
    }

    /** Reads one response; {@code head} says whether it answers a HEAD request (so has no body). */
    Response read(boolean head) throws IOException {
        String statusLine = line();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (String line = line(); line != null && !line.isEmpty(); line = line()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        Response bodiless = new Response(status, headers, new byte[0]);
        if (head || status / 100 == 1 || status == 204 || status == 304) {
            return bodiless;
        }
        String length = bodiless.header("content-length");
        if ("chunked".equalsIgnoreCase(bodiless.header("transfer-encoding"))) {
            return new Response(status, headers, readChunked());
        }
        if (length != null) {
            return new Response(status, headers, in.readNBytes(Integer.parseInt(length)));
        }
        return new Response(status, headers, in.readAllBytes());
    }

    /**
     * Reads the status line and headers only and returns them (with an empty body); the body is then read from
     * {@link #input()}.
     */
    Response readHead() throws IOException {
        return read(true);
    }

    /** The rest of what the server sends, e.g. a body too large to hold, after {@link #readHead()}. */
    InputStream input() {
        return in;
    }

    /** Reads one response to a non-HEAD request. */
    Response read() throws IOException {
        return read(false);
    }

    /** Whether the server has closed the connection: the next read sees end of stream (waits up to 10 s). */
    boolean closedByServer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: closed as well
        }
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line();
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            if (size == 0) {
                while (!line().isEmpty()) {
                    // trailer fields: none expected, skip them
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            line(); // the CRLF after the chunk data
        }
    }

    private String line() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != -1; c = in.read()) {
            if (c == '\n') {
                int end = line.length();
                return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
            }
            line.append((char) c);
        }
        return line.length() == 0 ? null : line.toString();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
