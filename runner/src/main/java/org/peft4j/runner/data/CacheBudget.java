package org.peft4j.runner.data;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of decoded images a run may keep in the Java heap ({@code data.cache-mb}). Images are cached on
 * first use while the budget lasts and never evicted: the training split is read first (and every epoch), so it
 * claims the budget; a large evaluation split is decoded again on each pass instead of filling the heap.
 */
public final class CacheBudget {

    /** {@code data.cache-mb = auto}: half of the heap beyond this much, which stays free for batches and decoding. */
    public static final long AUTO_RESERVE = 64L << 20;

    private final long limit;
    private final AtomicLong left;

    private CacheBudget(long limit) {
        this.limit = limit;
        this.left = new AtomicLong(limit);
    }

    /** {@code megabytes} MiB, or {@link #auto()} when {@code megabytes < 0}. */
    public static CacheBudget megabytes(long megabytes) {
        return new CacheBudget(megabytes < 0 ? auto() : megabytes << 20);
    }

    /** Half of the maximum heap beyond {@link #AUTO_RESERVE}: 1,984 MB of a 4 GB heap, nothing of a 64 MB one. */
    static long auto() {
        return Math.max(0, (Runtime.getRuntime().maxMemory() - AUTO_RESERVE) / 2);
    }

    /** No caching at all (every image decoded on every use). */
    public static CacheBudget none() {
        return new CacheBudget(0);
    }

    /** Exactly {@code bytes} (tests). */
    static CacheBudget bytes(long bytes) {
        return new CacheBudget(bytes);
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

    public long usedBytes() {
        return limit - left.get();
    }
}
