package pibl.testing;

import java.util.ArrayList;
import java.util.List;

/** What a test opened, closed in reverse order at the end: backends, proxies, clients. */
public final class Closer implements AutoCloseable {
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** Registers {@code c} to be closed, and returns it. */
    public <T extends AutoCloseable> T track(T c) {
        opened.add(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = opened.size() - 1; i >= 0; i--) {
            try {
                opened.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        opened.clear();
        if (first != null) {
            throw first;
        }
    }
}
