package org.peft4j.api.site;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;

/**
 * Selects sites by target patterns, as methods write them in config. A target is {@code pattern[:slice]}:
 *
 * <ul>
 *   <li>{@code attn.qkv} — every site whose id is, or ends with, {@code .attn.qkv} (a suffix at a dot);
 *   <li>{@code blocks.*.mlp.fc1} — a glob: {@code *} is one id segment part, {@code **} any run of
 *       characters; it may match the whole id or a dot-suffix of it;
 *   <li>{@code re:^blocks\.(0|1)\.attn\.qkv$} — a Java regex over the whole id;
 *   <li>{@code attn.qkv:q} — only the {@code q} output slice of the matched sites.
 * </ul>
 *
 * Every target must match at least one site of an accepted kind: otherwise the error names the target,
 * the config key and what the model offers. All checks run before any adapter is attached.
 */
public final class SiteSelector {

    /** One selected site, with the output slice the target asked for (null = all outputs). */
    public record Match(AdapterSite site, OutputSlice slice, String target) {

        /** {@code blocks.3.attn.qkv:q}, or the site id without a slice. */
        public String label() {
            return slice == null ? site.id() : site.id() + ":" + slice.name();
        }
    }

    private final List<String> targets;
    private final Set<SiteKind> kinds;
    private final Set<Integer> layers;
    private final List<String> exclude;
    private final String configKey;

    private SiteSelector(Builder builder) {
        this.targets = List.copyOf(builder.targets);
        this.kinds = EnumSet.copyOf(builder.kinds);
        this.layers = Set.copyOf(builder.layers);
        this.exclude = List.copyOf(builder.exclude);
        this.configKey = builder.configKey;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The usual selector of a method with {@code targets}, {@code layers} and {@code exclude} options: errors
     * name {@code method.targets} and the experiment file.
     */
    public static SiteSelector forMethod(MethodContext context, List<String> targets, List<Integer> layers,
            List<String> exclude, Set<SiteKind> kinds) {
        return builder().setTargets(targets).setKinds(kinds).optLayers(layers).optExclude(exclude)
                .optConfigKey(context.where("targets")).build();
    }

    /** Selects from {@code sites} of the model named {@code modelName} (used in error messages). */
    public List<Match> select(String modelName, Collection<? extends AdapterSite> sites) {
        if (targets.isEmpty()) {
            throw new PeftException(configKey + " is empty: name at least one site to adapt");
        }
        List<Predicate<String>> excluded = exclude.stream().map(SiteSelector::matcher).toList();
        Map<String, Match> selected = new LinkedHashMap<>();
        for (String target : targets) {
            int colon = target.lastIndexOf(':');
            int patternStart = target.startsWith("re:") ? 3 : 0;
            boolean hasSlice = colon > patternStart && target.substring(colon + 1).matches("\\w+");
            String pattern = hasSlice ? target.substring(0, colon) : target;
            String sliceName = hasSlice ? target.substring(colon + 1) : null;
            Predicate<String> matches = matcher(pattern);

            List<AdapterSite> byName = sites.stream().filter(s -> matches.test(s.id())).map(s -> (AdapterSite) s).toList();
            List<AdapterSite> byKind = byName.stream().filter(s -> kinds.contains(s.kind())).toList();
            List<AdapterSite> inLayers =
                    byKind.stream().filter(s -> layers.isEmpty() || layers.contains(s.depth())).toList();
            List<AdapterSite> kept =
                    inLayers.stream().filter(s -> excluded.stream().noneMatch(e -> e.test(s.id()))).toList();
            if (kept.isEmpty()) {
                throw new PeftException(noMatchMessage(modelName, sites, target, byName, byKind, inLayers));
            }
            for (AdapterSite site : kept) {
                OutputSlice slice = null;
                if (sliceName != null) {
                    if (site.slices().stream().noneMatch(s -> s.name().equals(sliceName))) {
                        throw new PeftException(
                                configKey + ": target '" + target + "' asks for output slice '" + sliceName
                                        + "', but site " + site.id() + " of " + modelName + " has "
                                        + (site.slices().isEmpty()
                                                ? "no slices"
                                                : "slices " + site.slices().stream().map(OutputSlice::name).toList()));
                    }
                    slice = site.slice(sliceName);
                }
                Match match = new Match(site, slice, target);
                selected.putIfAbsent(match.label(), match);
            }
        }
        return List.copyOf(selected.values());
    }

    private String noMatchMessage(
            String modelName,
            Collection<? extends AdapterSite> sites,
            String target,
            List<AdapterSite> byName,
            List<AdapterSite> byKind,
            List<AdapterSite> inLayers) {
        String where = configKey + ": target '" + target + "' matches no site of " + modelName;
        if (byName.isEmpty()) {
            return where + " (it offers " + describeOffers(sites) + ")";
        }
        if (byKind.isEmpty()) {
            Set<SiteKind> found = EnumSet.noneOf(SiteKind.class);
            byName.forEach(s -> found.add(s.kind()));
            return where + ": it names sites of kind " + found + ", but this method adapts " + kinds;
        }
        if (inLayers.isEmpty()) {
            return where + " in layers " + new TreeSet<>(layers);
        }
        return where + " once the excludes " + exclude + " are applied";
    }

    /** A short list of what a model offers, by kind: {@code LINEAR [attn.qkv, attn.proj, ...]}. */
    public static String describeOffers(Collection<? extends AdapterSite> sites) {
        Map<SiteKind, Set<String>> offers = new LinkedHashMap<>();
        for (AdapterSite site : sites) {
            offers.computeIfAbsent(site.kind(), k -> new LinkedHashSet<>()).add(shortName(site.id()));
        }
        List<String> parts = new ArrayList<>();
        offers.forEach((kind, names) -> parts.add(kind + " " + names));
        return String.join("; ", parts);
    }

    /** The part of an id after its last numeric segment: {@code layers.2.blocks.5.mlp.fc1 -> mlp.fc1}. */
    public static String shortName(String id) {
        String[] segments = id.split("\\.");
        int lastNumber = -1;
        for (int i = 0; i < segments.length; i++) {
            if (!segments[i].isEmpty() && segments[i].chars().allMatch(Character::isDigit)) {
                lastNumber = i;
            }
        }
        if (lastNumber == segments.length - 1) {
            return String.join(".", segments).replaceAll("\\.\\d+", ".N");
        }
        return String.join(".", List.of(segments).subList(lastNumber + 1, segments.length));
    }

    private static Predicate<String> matcher(String pattern) {
        if (pattern.startsWith("re:")) {
            try {
                Pattern regex = Pattern.compile(pattern.substring(3));
                return id -> regex.matcher(id).matches();
            } catch (PatternSyntaxException e) {
                throw new PeftException("bad regular expression in target '" + pattern + "': " + e.getDescription());
            }
        }
        if (pattern.contains("*") || pattern.contains("?")) {
            Pattern glob = Pattern.compile("(.*\\.)?" + globToRegex(pattern));
            return id -> glob.matcher(id).matches();
        }
        return id -> id.equals(pattern) || id.endsWith("." + pattern);
    }

    private static String globToRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
            } else if (c == '*') {
                regex.append("[^.]*");
            } else if (c == '?') {
                regex.append("[^.]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return regex.toString();
    }

    /** Builder; {@code setTargets} and {@code setKinds} are required. */
    public static final class Builder {
        private List<String> targets = List.of();
        private Set<SiteKind> kinds = EnumSet.noneOf(SiteKind.class);
        private Set<Integer> layers = Set.of();
        private List<String> exclude = List.of();
        private String configKey = "targets";

        public Builder setTargets(List<String> targets) {
            this.targets = targets;
            return this;
        }

        public Builder setKinds(Set<SiteKind> kinds) {
            this.kinds = kinds;
            return this;
        }

        /** Only sites in these block indices (empty = all). */
        public Builder optLayers(Collection<Integer> layers) {
            this.layers = Set.copyOf(layers);
            return this;
        }

        public Builder optExclude(List<String> exclude) {
            this.exclude = exclude;
            return this;
        }

        /** The config key the targets came from, for error messages. */
        public Builder optConfigKey(String configKey) {
            this.configKey = configKey;
            return this;
        }

        public SiteSelector build() {
            if (kinds.isEmpty()) {
                throw new IllegalArgumentException("SiteSelector needs the site kinds the method adapts");
            }
            return new SiteSelector(this);
        }
    }
}
