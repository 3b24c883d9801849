package pibl.app;

import java.util.function.UnaryOperator;
import pibl.config.PiblConfig;

/**
 * A command-line flag that replaces one key of the file, e.g. {@code --ttl 30} replacing
 * {@code cache.ttl}. An error the records report for {@code key} (or a key under it) is blamed on
 * the flag, not on the file.
 *
 * @param key   the dotted key it replaces
 * @param flag  the flag as typed, e.g. {@code --ttl}
 * @param text  its value as typed, quoted back in error messages
 * @param apply the replacement
 */
record FlagOverride(String key, String flag, String text, UnaryOperator<PiblConfig> apply) {

    boolean covers(String errorKey) {
        return errorKey.equals(key) || errorKey.startsWith(key + ".") || errorKey.startsWith(key + "[");
    }
}
