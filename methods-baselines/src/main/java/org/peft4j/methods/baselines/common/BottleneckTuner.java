package org.peft4j.methods.baselines.common;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteSelector;

/**
 * Attaches one {@link BottleneckAdapter} to every site the selectors pick (adapter, AdaptFormer): all sites are
 * selected and every adapter built before the first is attached, so a bad selection leaves the model untouched.
 */
public final class BottleneckTuner implements Tuner {

    private final String name;
    private final List<SiteSelector> selectors;
    private final Function<AdapterSite, BottleneckAdapter.Spec> spec;
    private final boolean frozenEval;

    /**
     * @param name the adapters' name (checkpoint keys {@code <site>.<name>.<parameter>})
     * @param selectors one per site kind, so that a kind the model lacks is an error of its own
     * @param spec the adapter for a selected site
     * @param frozenEval whether the frozen backbone's drop path runs as at evaluation while training
     */
    public BottleneckTuner(String name, List<SiteSelector> selectors, Function<AdapterSite, BottleneckAdapter.Spec> spec,
            boolean frozenEval) {
        this.name = name;
        this.selectors = List.copyOf(selectors);
        this.spec = spec;
        this.frozenEval = frozenEval;
    }

    @Override
    public void attach(AdaptableModel model) {
        List<AdapterSite> sites = new ArrayList<>();
        for (SiteSelector selector : selectors) {
            selector.select(model.name(), model.sites()).forEach(m -> sites.add(m.site()));
        }
        List<BottleneckAdapter> adapters = new ArrayList<>();
        for (AdapterSite site : sites) {
            BottleneckAdapter adapter = new BottleneckAdapter(name, spec.apply(site));
            adapter.initialize(model.manager(), DataType.FLOAT32);
            adapters.add(adapter);
        }
        for (int i = 0; i < sites.size(); i++) {
            sites.get(i).attach(adapters.get(i));
        }
        model.setFrozenBackboneEval(frozenEval);
    }
}
