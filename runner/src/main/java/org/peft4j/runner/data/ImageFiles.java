package org.peft4j.runner.data;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.peft4j.api.PeftException;

/**
 * Checks every image a run will read before anything is trained: the file exists and its header reads as an image
 * (no pixels are decoded, so large splits are checked in seconds, on the decoding threads). Images are otherwise
 * decoded only when first used, which for a test split is after training.
 */
public final class ImageFiles {

    /** Files checked per task. */
    private static final int CHUNK = 256;

    private ImageFiles() {}

    /** Throws naming the first bad file of each split and the list line that refers to it. */
    public static void check(SplitList... splits) {
        List<PeftException> problems = new ArrayList<>();
        for (SplitList split : splits) {
            List<Sample> samples = split.samples();
            List<Future<?>> checks = new ArrayList<>();
            for (int start = 0; start < samples.size(); start += CHUNK) {
                List<Sample> chunk = samples.subList(start, Math.min(samples.size(), start + CHUNK));
                checks.add(Decoders.POOL.submit(() -> chunk.forEach(ImageFiles::check)));
            }
            try {
                Decoders.awaitAll(checks);
            } catch (PeftException e) {
                problems.add(e);
            }
        }
        if (!problems.isEmpty()) {
            throw PeftException.combine(problems);
        }
    }

    private static void check(Sample s) {
        if (!Files.isRegularFile(s.image())) {
            throw new PeftException("image not found: " + s.image() + " (listed in " + s.where() + ")");
        }
        ImageDecoder.probe(s.image(), s.where());
    }
}
