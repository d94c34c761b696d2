package org.peft4j.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.net.URISyntaxException;
import java.nio.file.Path;
import org.peft4j.api.Backbone;
import org.peft4j.api.io.Npy;

/** Golden fixtures made by tools/fixtures/make_*_fixtures.py: timm's outputs for a fixed input. */
public final class Golden {

    private Golden() {}

    public static Path fixture(String file) {
        try {
            return Path.of(Golden.class.getResource("/fixtures/" + file).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + file + "; run the make_*_fixtures.py scripts in tools/fixtures/", e);
        }
    }

    /** max |ours - timm| / max |timm|. */
    public static double relativeError(NDArray ours, NDArray theirs) {
        return ours.sub(theirs).abs().max().getFloat() / theirs.abs().max().getFloat();
    }

    /** Logits of {@code model} (eval mode) for the fixture input {@code <name>.input.npy}. */
    public static NDArray logits(Backbone model, String name, NDManager manager) {
        NDArray x = Npy.read(fixture(name + ".input.npy"), manager);
        return model.block().forward(new ParameterStore(manager, false), new NDList(x), false).singletonOrThrow();
    }

    public static NDArray features(Backbone model, String name, NDManager manager) {
        NDArray x = Npy.read(fixture(name + ".input.npy"), manager);
        return model.features(new ParameterStore(manager, false), x, false);
    }

    public static NDArray expected(String file, NDManager manager) {
        return Npy.read(fixture(file), manager);
    }
}
