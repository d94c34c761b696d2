package org.peft4j.runner.data;

import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that read, decode and cut images while the model computes. Work is queued as small independent tasks
 * (one image, or a chunk of files to check) and only the caller waits, so no decoding thread ever waits for another;
 * a task that fails, even with an OutOfMemoryError, completes its future with that failure instead of stalling the run.
 */
final class Decoders {

    private static final AtomicInteger COUNT = new AtomicInteger();

    /** Daemon threads, one per core: they never keep the JVM alive. */
    static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()),
            task -> {
                Thread t = new Thread(task, "peft4j-decode-" + COUNT.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    private Decoders() {}

    /** Waits for every future in order; on the first failure the rest are cancelled and the failure rethrown as it was. */
    static void awaitAll(List<? extends Future<?>> futures) {
        for (int i = 0; i < futures.size(); i++) {
            try {
                await(futures.get(i));
            } catch (RuntimeException | Error e) {
                futures.subList(i + 1, futures.size()).forEach(f -> f.cancel(false));
                throw e;
            }
        }
    }

    /** The future's value; a failure on a decoding thread is rethrown here as it was (an OutOfMemoryError too). */
    static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for images", e);
        } catch (CancellationException e) {
            throw new IllegalStateException("image decoding was cancelled", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }
}
