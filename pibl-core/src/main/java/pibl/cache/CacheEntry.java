package pibl.cache;

import io.netty.buffer.ByteBuf;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.ReadOnlyHttpHeaders;
import io.netty.util.AsciiString;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.ReferenceCounted;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One stored response (one variant of a key): immutable metadata, and where its body is.
 *
 * <p>Serving it: copy {@link #headers()} (they carry {@code Content-Length} = {@link #bodyLength()}), set
 * {@code Age} to {@code freshness().ageSeconds(now)}, then send {@link #retainedMemoryBody()} if it is not null,
 * else {@link #newBodyRegion()} (zero-copy {@code sendfile}). Open the region right after the lookup: once opened,
 * the body stays readable even if the entry is evicted and its file deleted meanwhile; if opening fails with
 * {@link java.nio.file.NoSuchFileException}, treat the lookup as a miss.
 */
public final class CacheEntry {
    private final String key;
    private final Digest digest;
    private final int version;
    private final int status;
    private final String reason;
    private final HttpHeaders headers;
    /**
     * {@link #headers} with lower-case names, as HTTP/2 sends every name (RFC 9113 section 8.2.1): made on the
     * first hit served over HTTP/2, so that such hits do not lower-case each stored name again (one array and one
     * string per name, every time). The values are the same objects. Two loops may both make it; either is right,
     * and a {@code ReadOnlyHttpHeaders} is safely published by its final field.
     */
    private HttpHeaders lowerCaseHeaders;
    private final Map<String, String> varyValues;
    private final long requestTime;
    private final long responseTime;
    private final long bodyLength;
    private final int bodyCrc;
    private final Path file;
    private final long bodyOffset;
    private final ByteBuf memoryBody;
    private final Freshness freshness;
    private final boolean hasValidators;
    private final long keepUntil;
    private final long generation;

    CacheEntry(String key, Digest digest, int version, int status, String reason, HttpHeaders headers,
               Map<String, String> varyValues, long requestTime, long responseTime, long bodyLength, int bodyCrc,
               Path file, long bodyOffset, ByteBuf memoryBody, Freshness freshness, long keepUntil,
               long generation) {
        this.key = key;
        this.digest = digest;
        this.version = version;
        this.status = status;
        this.reason = reason;
        this.headers = headers instanceof ReadOnlyHttpHeaders ? headers : readOnly(headers);
        this.varyValues = varyValues;
        this.requestTime = requestTime;
        this.responseTime = responseTime;
        this.bodyLength = bodyLength;
        this.bodyCrc = bodyCrc;
        this.file = file;
        this.bodyOffset = bodyOffset;
        this.memoryBody = memoryBody;
        this.freshness = freshness;
        this.hasValidators = CachePolicy.hasValidators(this.headers);
        this.keepUntil = keepUntil;
        this.generation = generation;
    }

    /**
     * Names and values as {@link AsciiString}: converted once here, then every hit copies them
     * without re-hashing names and the encoder writes them with a byte copy instead of a char loop.
     */
    private static HttpHeaders readOnly(HttpHeaders headers) {
        CharSequence[] pairs = new CharSequence[headers.size() * 2];
        int i = 0;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            pairs[i++] = AsciiString.of(e.getKey());
            pairs[i++] = AsciiString.of(e.getValue());
        }
        return new ReadOnlyHttpHeaders(false, pairs);
    }

    private static HttpHeaders lowerCase(HttpHeaders headers) {
        CharSequence[] pairs = new CharSequence[headers.size() * 2];
        int i = 0;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            AsciiString lower = AsciiString.of(e.getKey()).toLowerCase();
            pairs[i++] = COMMON_NAMES.getOrDefault(lower, lower);
            pairs[i++] = e.getValue();
        }
        return new ReadOnlyHttpHeaders(false, pairs);
    }

    /** Names most responses carry, shared by every entry's lower-case fields instead of one copy each. */
    private static final Map<AsciiString, AsciiString> COMMON_NAMES = Stream.of(
                    HttpHeaderNames.ACCEPT_RANGES, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.CONTENT_ENCODING,
                    HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.DATE,
                    HttpHeaderNames.ETAG, HttpHeaderNames.EXPIRES, HttpHeaderNames.LAST_MODIFIED,
                    HttpHeaderNames.SERVER, HttpHeaderNames.VARY, HttpHeaderNames.VIA, HttpHeaderNames.AGE,
                    HttpHeaderNames.CONTENT_LANGUAGE, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.LOCATION)
            .collect(Collectors.toUnmodifiableMap(n -> n, n -> n));

    /** The primary key text, {@code scheme://host/target}. */
    public String key() {
        return key;
    }

    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    /** The stored response headers, read-only; {@code copy()} them to build a response. */
    public HttpHeaders headers() {
        return headers;
    }

    /** The stored fields as {@link #headers()}, every name in lower case (for HTTP/2). */
    public HttpHeaders lowerCaseHeaders() {
        HttpHeaders lower = lowerCaseHeaders;
        if (lower == null) {
            lower = lowerCaseHeaders = lowerCase(headers);
        }
        return lower;
    }

    /** The request's values of the fields named by the response's {@code Vary} (null for absent ones). */
    public Map<String, String> varyValues() {
        return varyValues;
    }

    /** When the request that produced (or last revalidated) this response was sent, epoch millis. */
    public long requestTime() {
        return requestTime;
    }

    /** When the response (or the 304 that last refreshed it) was received, epoch millis. */
    public long responseTime() {
        return responseTime;
    }

    public long bodyLength() {
        return bodyLength;
    }

    /** The entry file; the body is at {@link #bodyOffset()} for {@link #bodyLength()} bytes. */
    public Path file() {
        return file;
    }

    public long bodyOffset() {
        return bodyOffset;
    }

    public Freshness freshness() {
        return freshness;
    }

    public long freshUntil() {
        return freshness.freshUntil();
    }

    public long staleWhileRevalidate() {
        return freshness.staleWhileRevalidate();
    }

    public long staleIfError() {
        return freshness.staleIfError();
    }

    public boolean mustRevalidate() {
        return freshness.mustRevalidate();
    }

    public boolean noCache() {
        return freshness.noCache();
    }

    /** {@code ETag} or {@code Last-Modified} present: a stale entry can be revalidated with a 304. */
    public boolean hasValidators() {
        return hasValidators;
    }

    /**
     * Takes hold of the body: the memory tier's buffer ({@link #retainedMemoryBody()}) or else a region of its file
     * ({@link #newBodyRegion()}); the caller releases it (writing it to a channel does). Once held it stays
     * readable, whatever becomes of the entry; {@link StoredBody#part} narrows it to a range. Null for an empty
     * body.
     *
     * @throws IOException if the body is in neither place any more (evicted, or replaced, since the lookup)
     */
    public ReferenceCounted openBody() throws IOException {
        if (bodyLength == 0) {
            return null;
        }
        ByteBuf memory = retainedMemoryBody();
        return memory != null ? memory : newBodyRegion();
    }

    /**
     * The body from the memory tier as a read-only {@code retainedDuplicate()} the caller must release (writing
     * it to a channel does), or null if the body is not (or no longer) in memory: then use the file.
     */
    public ByteBuf retainedMemoryBody() {
        if (memoryBody == null) {
            return null;
        }
        try {
            return memoryBody.retainedDuplicate();
        } catch (IllegalReferenceCountException evicted) {
            return null;
        }
    }

    /**
     * A zero-copy region over the body; it owns an open channel, closed when the region is released. The file is
     * the key's, and a newer version may have been renamed over it since the lookup: its version is checked first,
     * and a newer file fails like a missing one ({@link java.nio.file.NoSuchFileException}), never serving one
     * version's bytes at another's offsets.
     */
    public FileRegion newBodyRegion() throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            ByteBuffer fixed = ByteBuffer.allocate(EntryFile.FIXED);
            EntryFile.readFully(ch, fixed, 0);
            if (fixed.getInt(30) != version || ch.size() != bodyOffset + bodyLength) {
                throw new NoSuchFileException(file.toString(), null, "replaced by a newer version");
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new StoredBody.Region(ch, bodyOffset, bodyLength);
    }

    Digest digest() {
        return digest;
    }

    int version() {
        return version;
    }

    /** For a Vary variant, its marker's version; else 0. */
    long generation() {
        return generation;
    }

    /** Roughly what the entry costs on the heap, for the hot tier's budget (the body is direct memory). */
    int heapEstimate() {
        int bytes = 256 + key.length() * 2;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            // + 8: the name's and value's places in the lower-case fields of a hit over HTTP/2, once made (an
            // uncommon name's own lower-case copy is not counted)
            bytes += 88 + e.getKey().length() + e.getValue().length();
        }
        return bytes;
    }

    int bodyCrc() {
        return bodyCrc;
    }

    ByteBuf memoryBody() {
        return memoryBody;
    }

    /** Until when the store keeps this entry (see {@link DiskCacheStore}). */
    long keepUntil() {
        return keepUntil;
    }

    /** A copy refreshed by a 304: new headers and times, same body. */
    CacheEntry refreshed(HttpHeaders newHeaders, long newRequestTime, long newResponseTime, Freshness newFreshness,
                         long newKeepUntil) {
        return new CacheEntry(key, digest, version, status, reason, newHeaders, varyValues, newRequestTime,
                newResponseTime, bodyLength, bodyCrc, file, bodyOffset, memoryBody, newFreshness, newKeepUntil,
                generation);
    }

    /** The same entry written anew (a header rewrite that outgrew the region): another version, another offset. */
    CacheEntry rewritten(int newVersion, long newBodyOffset) {
        return new CacheEntry(key, digest, newVersion, status, reason, headers, varyValues, requestTime,
                responseTime, bodyLength, bodyCrc, file, newBodyOffset, memoryBody, freshness, keepUntil, generation);
    }

    /** The same entry with its body in memory (a buffer the memory tier owns). */
    CacheEntry withMemoryBody(ByteBuf body) {
        return new CacheEntry(key, digest, version, status, reason, headers, varyValues, requestTime, responseTime,
                bodyLength, bodyCrc, file, bodyOffset, body, freshness, keepUntil, generation);
    }

    @Override
    public String toString() {
        return "CacheEntry[" + key + (varyValues.isEmpty() ? "" : " " + varyValues) + " v" + version + " " + status
                + " " + bodyLength + "B " + (file == null ? "-" : file.getFileName()) + "]";
    }
}
