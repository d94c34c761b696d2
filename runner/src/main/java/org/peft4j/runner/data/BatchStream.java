package org.peft4j.runner.data;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * The batches of one pass over an {@link ImageSet}, prepared by the decoding threads {@link #LOOKAHEAD} batches
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
    private final ArrayDeque<ImageSet.Pending> ahead = new ArrayDeque<>();
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
            // the batch's crops are drawn here, in order: the same seed gives the same crops however threads run
            ahead.add(set.submit(batches.get(submitted), training, random.apply(submitted)));
            submitted++;
        }
    }

    @Override
    public boolean hasNext() {
        return !ahead.isEmpty();
    }

    @Override
    public HostBatch next() {
        ImageSet.Pending next = ahead.poll();
        if (next == null) {
            throw new NoSuchElementException();
        }
        fill();
        return next.await();
    }

    @Override
    public void close() {
        ahead.forEach(ImageSet.Pending::cancel);
        ahead.clear();
    }
}
