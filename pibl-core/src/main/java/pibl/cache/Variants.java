package pibl.cache;

import io.netty.handler.codec.http.HttpHeaders;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The stored variants of one key: the index value. Immutable; every change makes a new instance. */
record Variants(List<CacheEntry> entries) {
    /** Beyond this many variants of one key (say {@code Vary: User-Agent}), the oldest go. */
    static final int MAX = 16;

    /**
     * With a newly stored response: it replaces the variant with the same vary values, and any variant the new
     * request would have selected (the origin may have changed its {@code Vary}); expired variants are dropped.
     */
    static Variants with(Variants old, CacheEntry entry, HttpHeaders requestHeaders, long now) {
        List<CacheEntry> list = new ArrayList<>();
        if (old != null) {
            for (CacheEntry e : old.entries) {
                boolean replaced = e.variantHash().equals(entry.variantHash())
                        || (requestHeaders != null && Vary.matches(e.varyValues(), requestHeaders));
                if (!replaced && e.keepUntil() > now) {
                    list.add(e);
                }
            }
        }
        list.add(entry);
        while (list.size() > MAX) {
            list.remove(list.stream().min(Comparator.comparingLong(CacheEntry::version)).orElseThrow());
        }
        return new Variants(List.copyOf(list));
    }

    /** With {@code replacement} in place of the entry stored in {@code file}; null if that entry is gone. */
    Variants replacing(Path file, CacheEntry replacement) {
        List<CacheEntry> list = new ArrayList<>(entries);
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).file().equals(file)) {
                if (replacement == null) {
                    list.remove(i);
                } else {
                    list.set(i, replacement);
                }
                return new Variants(List.copyOf(list));
            }
        }
        return null;
    }

    CacheEntry find(Path file) {
        for (CacheEntry e : entries) {
            if (e.file().equals(file)) {
                return e;
            }
        }
        return null;
    }

    /** Caffeine weight: file sizes in KiB, rounded up (an int of bytes would overflow for large objects). */
    int weightKiB() {
        long kib = 0;
        for (CacheEntry e : entries) {
            kib += (e.bodyOffset() + e.bodyLength() + 1023) / 1024;
        }
        return (int) Math.min(Integer.MAX_VALUE, kib);
    }

    long keepUntil() {
        long max = Long.MIN_VALUE;
        for (CacheEntry e : entries) {
            max = Math.max(max, e.keepUntil());
        }
        return max;
    }

    long bytes() {
        long sum = 0;
        for (CacheEntry e : entries) {
            sum += e.bodyOffset() + e.bodyLength();
        }
        return sum;
    }
}
