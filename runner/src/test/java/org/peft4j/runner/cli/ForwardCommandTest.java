package org.peft4j.runner.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.io.Npy;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.results.BackboneCheckpoint;

class ForwardCommandTest {

    @TempDir Path dir;

    /** Writes a backbone's weights as timm does (4-D patch-embedding conv weight, head included). */
    static Path saveTimmStyle(Backbone model, Path file) {
        BackboneCheckpoint.write(file, model, true, 3, Map.of());
        return file;
    }

    static int run(String... args) {
        StringWriter err = new StringWriter();
        int code = Peft4jCli.execute(args, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertThat(code).as(err.toString()).isZero();
        return code;
    }

    /** A micro ViT saved as a checkpoint, a random input batch and the logits the model gives it. */
    private record Saved(Path checkpoint, NDArray x, NDArray expected) {}

    private Saved saved(NDManager m, int classes, int images) {
        Engine.getInstance().setRandomSeed(5);
        Backbone model = BackboneRegistry.load().build(BackboneOptions.of("vit_micro_patch4_32", classes), m);
        Path ckpt = saveTimmStyle(model, dir.resolve("m.safetensors"));
        NDArray x = m.randomNormal(new Shape(images, 3, 32, 32));
        NDArray expected = model.block().forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
        return new Saved(ckpt, x, expected);
    }

    @Test
    void forwardWritesTheLogitsTheModelComputes() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Saved s = saved(m, 7, 3);
            String ckpt = s.checkpoint().toString();
            Npy.write(dir.resolve("x.npy"), s.x());

            run("forward", "--backbone", "vit_micro_patch4_32", "--checkpoint", ckpt, "--input",
                    dir.resolve("x.npy").toString(), "--output", dir.resolve("y.npy").toString(), "--batch", "2");
            NDArray y = Npy.read(dir.resolve("y.npy"), m);
            assertThat(y.getShape()).isEqualTo(new Shape(3, 7)); // class count read from the checkpoint's head
            assertThat(y.sub(s.expected()).abs().max().getFloat()).isLessThan(1e-5f);

            run("forward", "--backbone", "vit_micro_patch4_32", "--checkpoint", ckpt, "--features", "--input",
                    dir.resolve("x.npy").toString(), "--output", dir.resolve("f.npy").toString());
            assertThat(Npy.read(dir.resolve("f.npy"), m).getShape()).isEqualTo(new Shape(3, 64));
        }
    }

    @Test
    void float64InputIsConvertedWithANoteAndOtherTypesAreRefusedInOneLine() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Saved s = saved(m, 3, 2);
            Npy.write(dir.resolve("x64.npy"), s.x().toType(DataType.FLOAT64, false));
            StringWriter err = new StringWriter();
            int code = Peft4jCli.execute(new String[] {"forward", "--backbone", "vit_micro_patch4_32", "--checkpoint",
                    s.checkpoint().toString(),
                    "--input", dir.resolve("x64.npy").toString(), "--output", dir.resolve("y.npy").toString()},
                    new PrintWriter(new StringWriter()), new PrintWriter(err, true));
            assertThat(code).as(err.toString()).isZero();
            assertThat(err.toString()).contains("note: " + dir.resolve("x64.npy") + " is float64; converted to float32");
            assertThat(Npy.read(dir.resolve("y.npy"), m).sub(s.expected()).abs().max().getFloat()).isLessThan(1e-5f);

            Npy.write(dir.resolve("x8.npy"), s.x().toType(DataType.INT64, false));
            StringWriter err8 = new StringWriter();
            int refused = Peft4jCli.execute(new String[] {"forward", "--backbone", "vit_micro_patch4_32", "--input",
                    dir.resolve("x8.npy").toString(), "--output", dir.resolve("z.npy").toString()},
                    new PrintWriter(new StringWriter()), new PrintWriter(err8, true));
            assertThat(refused).isEqualTo(1);
            assertThat(err8.toString().lines().toList()).containsExactly("error: " + dir.resolve("x8.npy") + " holds int64 values;"
                    + " expected float32 images [N, C, H, W], normalised as the backbone expects (numpy: x.astype(np.float32))");
            assertThat(dir.resolve("z.npy")).doesNotExist();
        }
    }

    @Test
    void withoutACheckpointForwardWarnsThatTheWeightsAreRandom() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Npy.write(dir.resolve("x.npy"), m.randomNormal(new Shape(1, 3, 32, 32)));
        }
        StringWriter err = new StringWriter();
        Peft4jCli.execute(new String[] {"forward", "--backbone", "vit_micro_patch4_32", "--input", dir.resolve("x.npy").toString(),
                "--output", dir.resolve("y.npy").toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err, true));
        assertThat(err.toString()).contains("warning: no --checkpoint: the backbone has random weights");
    }

    /** A full-size ViT-B/16 builds, loads a timm-format checkpoint (346 MB) and runs on CPU. */
    @Test
    void fullSizeVitBaseLoadsATimmCheckpointAndRuns() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1);
            BackboneRegistry registry = BackboneRegistry.load();
            Backbone source = registry.build(BackboneOptions.of("vit_base_patch16_224", 1000), m);
            Path ckpt = saveTimmStyle(source, dir.resolve("vit_base.safetensors"));
            NDArray x = m.randomNormal(new Shape(1, 3, 224, 224));
            NDArray expected = source.block().forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            Backbone loaded = registry.build(BackboneOptions.of("vit_base_patch16_224", 1000), m);
            CheckpointLoader.Report report = CheckpointLoader.load(loaded, ckpt, true);
            assertThat(report.loaded()).isEqualTo(152);
            NDArray y = loaded.block().forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            assertThat(y.getShape()).isEqualTo(new Shape(1, 1000));
            assertThat(y.sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
        }
    }
}
