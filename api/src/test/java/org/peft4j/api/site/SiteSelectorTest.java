package org.peft4j.api.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.testing.TinyModel;

class SiteSelectorTest {

    static TinyModel model;

    @BeforeAll
    static void build() {
        model = new TinyModel(4, 3, 2, 0);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static List<String> select(List<String> targets, EnumSet<SiteKind> kinds) {
        return SiteSelector.builder().setTargets(targets).setKinds(kinds).build()
                .select(model.name(), model.sites()).stream().map(SiteSelector.Match::label).toList();
    }

    @Test
    void suffixMatchesEveryBlockAndSlicesAreKept() {
        assertThat(select(List.of("attn.qkv:q", "attn.qkv:v"), EnumSet.of(SiteKind.LINEAR)))
                .containsExactly("blocks.0.attn.qkv:q", "blocks.1.attn.qkv:q", "blocks.2.attn.qkv:q",
                        "blocks.0.attn.qkv:v", "blocks.1.attn.qkv:v", "blocks.2.attn.qkv:v");
    }

    @Test
    void globsRegexesLayersAndExcludes() {
        assertThat(select(List.of("blocks.1.*.fc1"), EnumSet.of(SiteKind.LINEAR))).containsExactly("blocks.1.mlp.fc1");
        assertThat(select(List.of("re:blocks\\.[02]\\.attn\\.proj"), EnumSet.of(SiteKind.LINEAR)))
                .containsExactly("blocks.0.attn.proj", "blocks.2.attn.proj");
        List<String> picked = SiteSelector.builder().setTargets(List.of("mlp.*"))
                .setKinds(EnumSet.of(SiteKind.LINEAR)).optLayers(List.of(2)).optExclude(List.of("fc2")).build()
                .select("tiny", model.sites()).stream().map(SiteSelector.Match::label).toList();
        assertThat(picked).containsExactly("blocks.2.mlp.fc1");
    }

    @Test
    void aTargetThatMatchesNothingNamesItselfTheKeyAndTheOffers() {
        assertThatThrownBy(() -> SiteSelector.builder().setTargets(List.of("attn.qkvv"))
                        .setKinds(EnumSet.of(SiteKind.LINEAR)).optConfigKey("method.targets").build()
                        .select("tiny", model.sites()))
                .isInstanceOf(PeftException.class)
                .hasMessageContaining("method.targets")
                .hasMessageContaining("'attn.qkvv'")
                .hasMessageContaining("attn.qkv");
    }

    @Test
    void wrongKindAndMissingSliceAreExplained() {
        assertThatThrownBy(() -> select(List.of("mlp"), EnumSet.of(SiteKind.LINEAR)))
                .hasMessageContaining("kind [FFN]");
        assertThatThrownBy(() -> select(List.of("mlp.fc1:q"), EnumSet.of(SiteKind.LINEAR)))
                .hasMessageContaining("output slice 'q'");
    }

    @Test
    void shortNamesDropIndices() {
        assertThat(SiteSelector.shortName("layers.2.blocks.5.mlp.fc1")).isEqualTo("mlp.fc1");
        assertThat(SiteSelector.shortName("blocks.3")).isEqualTo("blocks.N");
        assertThat(SiteSelector.shortName("norm")).isEqualTo("norm");
    }
}
