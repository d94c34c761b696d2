package org.peft4j.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import org.peft4j.api.Backbone;
import org.peft4j.api.site.AdapterBlock;

/** Attaching test adapters to a backbone's sites and running it. */
public final class Sites {

    private Sites() {}

    /** Initialises {@code adapter} in the model's manager and attaches it to the site {@code id}. */
    public static <A extends AdapterBlock> A attach(Backbone model, String id, A adapter) {
        adapter.initialize(model.manager(), DataType.FLOAT32);
        model.site(id).orElseThrow().attach(adapter);
        return adapter;
    }

    /** The logits for images {@code x}. */
    public static NDArray logits(Backbone model, NDArray x, boolean training) {
        return model.block().forward(new ParameterStore(x.getManager(), false), new NDList(x), training).singletonOrThrow();
    }
}
