package org.peft4j.runner.data;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of decoded images a run may keep in the Java heap ({@code data.cache-mb}). Images are cached on
 * first use while the budget lasts and never evicted: the training split is read first (and every epoch), so it
 * claims the budget; a large evaluation split is decoded again on each pass instead of filling the heap.
 */
public final class CacheBudget {

    /** {@code data.cache-mb = auto}: this share of the JVM's maximum heap. */
    public static final double AUTO_SHARE = 0.5;

    private final long limit;
    private final boolean auto;
    private final AtomicLong left;

    private CacheBudget(long limit, boolean auto) {
        this.limit = limit;
        this.auto = auto;
        this.left = new AtomicLong(limit);
    }

    /** {@code megabytes} MiB, or half the maximum heap when {@code megabytes < 0} (auto). */
    public static CacheBudget megabytes(long megabytes) {
        return megabytes < 0 ? new CacheBudget((long) (Runtime.getRuntime().maxMemory() * AUTO_SHARE), true)
                : new CacheBudget(megabytes << 20, false);
    }

    /** No caching at all (every image decoded on every use). */
    public static CacheBudget none() {
        return new CacheBudget(0, false);
    }

    /** Takes {@code bytes} from the budget if that many are left. */
    boolean tryReserve(long bytes) {
        while (true) {
            long now = left.get();
            if (now < bytes) {
                return false;
            }
            if (left.compareAndSet(now, now - bytes)) {
                return true;
            }
        }
    }

    /** Gives back bytes reserved but not used. */
    void release(long bytes) {
        left.addAndGet(bytes);
    }

    public long limitBytes() {
        return limit;
    }

    public long usedBytes() {
        return limit - left.get();
    }

    /** E.g. {@code "128 MB (data.cache-mb = auto: half of the 256 MB heap)"}. */
    public String describe() {
        return String.format(Locale.ROOT, "%d MB", limit >> 20) + (auto ? String.format(Locale.ROOT,
                " (data.cache-mb = auto: half of the %d MB heap)", Runtime.getRuntime().maxMemory() >> 20) : "");
    }
}
