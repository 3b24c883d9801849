package pibl.testing;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code @ExtendWith(NoLeaks.class)}: each test fails if Netty's leak detector reports a
 * {@code ByteBuf} it allocated and never released (the test JVM runs with paranoid detection).
 */
public final class NoLeaks implements BeforeEachCallback, AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeaks.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        context.getStore(NS).put(context.getUniqueId(), new LeakCheck());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try (LeakCheck check = context.getStore(NS).remove(context.getUniqueId(), LeakCheck.class)) {
            assertThat(check.leaks()).as("every ByteBuf the test's exchanges allocated was released").isEmpty();
        }
    }
}
