package org.peft4j.backbone;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.BackboneProvider;
import org.peft4j.api.PeftException;

/** The backbone families found by {@link ServiceLoader}, and building one by variant name. */
public final class BackboneRegistry {

    private final List<BackboneProvider> providers;

    public BackboneRegistry(List<BackboneProvider> providers) {
        this.providers = List.copyOf(providers);
    }

    public static BackboneRegistry load(ClassLoader loader) {
        List<BackboneProvider> found = new ArrayList<>();
        ServiceLoader.load(BackboneProvider.class, loader).forEach(found::add);
        return new BackboneRegistry(found);
    }

    public static BackboneRegistry load() {
        return load(BackboneRegistry.class.getClassLoader());
    }

    public List<BackboneProvider> providers() {
        return providers;
    }

    /** Every variant name, sorted. */
    public List<String> names() {
        TreeSet<String> names = new TreeSet<>();
        providers.forEach(p -> names.addAll(p.variants()));
        return List.copyOf(names);
    }

    public BackboneProvider providerOf(String name) {
        return providers.stream().filter(p -> p.supports(name)).findFirst().orElseThrow(() ->
                new PeftException("unknown backbone '" + name + "'; expected one of " + names()));
    }

    public Backbone build(BackboneOptions options, NDManager manager) {
        return providerOf(options.name()).build(options, manager);
    }
}
