package org.peft4j.runner.data;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * The batches of one pass over an {@link ImageSet}, prepared on the decoding threads {@link #LOOKAHEAD} batches
 * ahead of the one the model is computing. Only those batches are held, so memory stays bounded whatever the
 * split's size. Close it to drop work still queued (e.g. when training stops on an error).
 */
public final class BatchStream implements Iterator<HostBatch>, AutoCloseable {

    /** Batches prepared ahead of the one in use. */
    public static final int LOOKAHEAD = 2;

    private final ImageSet set;
    private final List<int[]> batches;
    private final boolean training;
    private final IntFunction<Random> random;
    private final ArrayDeque<Future<HostBatch>> ahead = new ArrayDeque<>();
    private int submitted;

    BatchStream(ImageSet set, List<int[]> batches, boolean training, IntFunction<Random> random) {
        this.set = set;
        this.batches = batches;
        this.training = training;
        this.random = random;
        fill();
    }

    private void fill() {
        while (ahead.size() <= LOOKAHEAD && submitted < batches.size()) {
            int[] indices = batches.get(submitted);
            Random r = random.apply(submitted); // drawn here, in order: the same seed gives the same crops
            ahead.add(ImageSet.DECODERS.submit(() -> set.prepare(indices, training, r)));
            submitted++;
        }
    }

    @Override
    public boolean hasNext() {
        return !ahead.isEmpty();
    }

    @Override
    public HostBatch next() {
        Future<HostBatch> next = ahead.poll();
        if (next == null) {
            throw new NoSuchElementException();
        }
        fill();
        return await(next);
    }

    @Override
    public void close() {
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
    }

    /** The future's value; a failure on a decoding thread is rethrown here as it was (an OutOfMemoryError too). */
    static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for images", e);
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
