package org.peft4j.runner.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.IdxFiles;
import org.peft4j.runner.cli.Peft4jCli;

class RotationPretrainingTest {

    @TempDir static Path data;
    @TempDir Path out;
    static Path images;

    record Result(int code, String out, String err) {}

    @BeforeAll
    static void images() throws Exception {
        images = IdxFiles.fashionTrain(data.resolve("train-images-idx3-ubyte.gz"), 500);
    }

    static Result pretrain(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        String[] all = new String[args.length + 3];
        all[0] = "pretrain";
        all[1] = "--progress";
        all[2] = "false";
        System.arraycopy(args, 0, all, 3, args.length);
        int code = Peft4jCli.execute(all, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Result(code, o.toString(), e.toString());
    }

    @Test
    void writesATimmCheckpointThatLoadsStrictlyAfterTheRotationLossFell() throws Exception {
        Path ckpt = out.resolve("micro.safetensors");
        Result r = pretrain("--images", images.toString(), "--limit", "400", "--val", "100", "--epochs", "1", "--batch-size", "16",
                "--lr", "1e-3", "--warmup-epochs", "0", "--output", ckpt.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("400 images x 4 rotations, 100 held out").contains("epoch 1/1").contains("wrote " + ckpt);

        // the sidecar: how it was made, and the rotation loss on held-out images before and after
        Config json = ConfigFactory.parseFile(RotationPretraining.sidecar(ckpt).toFile());
        assertThat(RotationPretraining.sidecar(ckpt)).isEqualTo(out.resolve("micro.json"));
        double before = json.getDouble("validation_before_training.loss");
        Config epoch = json.getConfigList("epochs").get(0);
        double after = epoch.getDouble("validation_loss");
        assertThat(before).as("untrained 4-way loss is about ln 4").isBetween(1.30, 1.48);
        assertThat(after).as("held-out rotation loss after one epoch vs before").isLessThan(before - 0.03);
        assertThat(epoch.getDouble("train_loss")).isLessThan(1.386);
        assertThat(json.getString("command")).contains("--limit 400 --val 100 --epochs 1 --lr 0.001").contains("--seed 0");
        assertThat(json.getString("images.sha256")).isEqualTo(sha256(images));
        assertThat(json.getString("images.train")).isEqualTo("images 0..399 (400)");
        assertThat(json.getString("images.validation")).isEqualTo("images 400..499 (100)");
        assertThat(json.getLong("parameters")).isEqualTo(207_424L);

        // timm's layout: timm keys, 4-D patch embedding, no classifier
        Map<String, Safetensors.Entry> header = new java.util.HashMap<>();
        Safetensors.header(ckpt).forEach(e -> header.put(e.name(), e));
        assertThat(header).hasSize(54).doesNotContainKeys("head.weight", "head.bias").containsKeys("cls_token", "pos_embed",
                "blocks.3.mlp.fc2.weight", "norm.bias");
        assertThat(header.get("patch_embed.proj.weight").shape()).isEqualTo(new Shape(64, 3, 4, 4));

        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = BackboneRegistry.load().build(BackboneOptions.of("vit_micro_patch4_32", 10), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, ckpt, true);
            assertThat(report.loaded()).isEqualTo(54);
            assertThat(report.headReplaced()).containsExactly("head.weight", "head.bias");
            assertThat(report.unexpected()).isEmpty();
            Map<String, NDArray> saved = Safetensors.read(ckpt, m);
            for (String key : List.of("blocks.3.mlp.fc2.weight", "pos_embed", "cls_token")) {
                assertThat(model.parameters().get(key).getArray().contentEquals(saved.get(key))).as(key).isTrue();
            }
            // the 4-D conv weight reshapes back to the site's [D, C*p*p] in (C, kh, kw) order
            NDArray conv = saved.get("patch_embed.proj.weight");
            NDArray flat = model.parameters().get("patch_embed.proj.weight").getArray();
            assertThat(flat.getShape()).isEqualTo(new Shape(64, 48));
            assertThat(flat.getFloat(5, 1 * 16 + 2 * 4 + 3)).isEqualTo(conv.getFloat(5, 1, 2, 3));
        }
    }

    @Test
    void theSameSeedGivesTheSameCheckpoint() throws Exception {
        byte[][] files = new byte[3][];
        long[] seeds = {3, 3, 4};
        for (int i = 0; i < 3; i++) {
            Path ckpt = out.resolve("run" + i + ".safetensors");
            Result r = pretrain("--images", images.toString(), "--limit", "48", "--val", "0", "--epochs", "1", "--batch-size", "32",
                    "--seed", Long.toString(seeds[i]), "--output", ckpt.toString());
            assertThat(r.code()).as(r.err()).isZero();
            files[i] = Files.readAllBytes(ckpt);
        }
        assertThat(files[1]).as("same seed, same bytes").isEqualTo(files[0]);
        assertThat(files[2]).as("another seed").isNotEqualTo(files[0]);
    }

    @Test
    void badInputsAreOneLineErrors() {
        Path missing = out.resolve("nothere.gz");
        Result r = pretrain("--images", missing.toString(), "--output", out.resolve("x.safetensors").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("error: IDX file not found: " + missing);

        r = pretrain("--images", images.toString(), "--limit", "450", "--val", "100", "--output", out.resolve("x.safetensors").toString());
        assertThat(r.err().strip()).isEqualTo("error: " + images + " holds 500 images; --limit 450 and --val 100 need 550");

        r = pretrain("--images", images.toString(), "--batch-size", "30", "--output", out.resolve("x.safetensors").toString());
        assertThat(r.err().strip()).isEqualTo("error: --batch-size 30: must be a positive multiple of 4 (the four rotations of an"
                + " image share a batch)");

        r = pretrain("--images", images.toString(), "--output", out.resolve("x.pt").toString());
        assertThat(r.err().strip()).isEqualTo("error: --output " + out.resolve("x.pt") + ": the checkpoint must be a .safetensors file");

        r = pretrain("--images", images.toString(), "--backbone", "vit_huge", "--output", out.resolve("x.safetensors").toString());
        assertThat(r.err()).startsWith("error: unknown backbone 'vit_huge'");
        assertThat(out.resolve("x.safetensors")).doesNotExist();
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
