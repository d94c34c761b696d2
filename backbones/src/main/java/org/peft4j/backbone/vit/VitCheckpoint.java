package org.peft4j.backbone.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.layers.CheckpointKeys;
import org.peft4j.backbone.layers.PatchEmbed;
import org.peft4j.backbone.layers.PosEmbed;

/**
 * Converts ViT checkpoints into timm's key space: timm / HF safetensors (prefix unwrapping, 4-D patch
 * conv weight flattened) and Google's original {@code .npz} (the ImageNet-21k ViT-B/16 of the VTAB papers),
 * then resamples the position embedding to the model's patch grid.
 */
final class VitCheckpoint {

    private VitCheckpoint() {}

    static Map<String, NDArray> convert(Map<String, NDArray> raw, VisionTransformer model, int grid, int prefix, NDManager manager) {
        Map<String, NDArray> tensors = isGoogleNpz(raw) ? fromGoogleNpz(raw, model.spec().depth()) : CheckpointKeys.unwrap(raw);
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String key = e.getKey();
            NDArray value = e.getValue();
            if (key.equals("patch_embed.proj.weight")) {
                value = PatchEmbed.flattenConvWeight(value);
            } else if (key.equals("pos_embed") && value.getShape().get(1) != prefix + (long) grid * grid) {
                value = PosEmbed.resample(value, prefix, grid, grid);
            }
            out.put(key, value);
        }
        return out;
    }

    static boolean isGoogleNpz(Map<String, NDArray> raw) {
        return raw.containsKey("embedding/kernel");
    }

    /** Google's big_vision / vision_transformer names and layouts to timm's (as timm's {@code _load_weights}). */
    static Map<String, NDArray> fromGoogleNpz(Map<String, NDArray> all, int depth) {
        Map<String, NDArray> w = new LinkedHashMap<>(all); // require() removes what it consumes
        Map<String, NDArray> out = new LinkedHashMap<>();
        NDArray kernel = require(w, "embedding/kernel"); // HWIO
        out.put("patch_embed.proj.weight", kernel.transpose(3, 2, 0, 1));
        out.put("patch_embed.proj.bias", require(w, "embedding/bias"));
        out.put("cls_token", require(w, "cls"));
        out.put("pos_embed", require(w, "Transformer/posembed_input/pos_embedding"));
        out.put("norm.weight", require(w, "Transformer/encoder_norm/scale"));
        out.put("norm.bias", require(w, "Transformer/encoder_norm/bias"));
        if (w.containsKey("head/kernel")) {
            out.put("head.weight", require(w, "head/kernel").transpose());
            out.put("head.bias", require(w, "head/bias"));
        }
        for (int i = 0; i < depth; i++) {
            String b = "Transformer/encoderblock_" + i + "/";
            String t = "blocks." + i + ".";
            String mha = b + "MultiHeadDotProductAttention_1/";
            out.put(t + "norm1.weight", require(w, b + "LayerNorm_0/scale"));
            out.put(t + "norm1.bias", require(w, b + "LayerNorm_0/bias"));
            NDArray q = flatKernel(require(w, mha + "query/kernel"));
            NDArray k = flatKernel(require(w, mha + "key/kernel"));
            NDArray v = flatKernel(require(w, mha + "value/kernel"));
            out.put(t + "attn.qkv.weight", q.concat(k, 0).concat(v, 0));
            NDArray qb = require(w, mha + "query/bias").flatten();
            out.put(t + "attn.qkv.bias", qb.concat(require(w, mha + "key/bias").flatten(), 0)
                    .concat(require(w, mha + "value/bias").flatten(), 0));
            NDArray outKernel = require(w, mha + "out/kernel"); // [H, dh, D]
            long dim = outKernel.getShape().get(2);
            out.put(t + "attn.proj.weight", outKernel.transpose(2, 0, 1).reshape(dim, -1));
            out.put(t + "attn.proj.bias", require(w, mha + "out/bias"));
            out.put(t + "norm2.weight", require(w, b + "LayerNorm_2/scale"));
            out.put(t + "norm2.bias", require(w, b + "LayerNorm_2/bias"));
            for (int j = 0; j < 2; j++) {
                String dense = b + "MlpBlock_3/Dense_" + j + "/";
                out.put(t + "mlp.fc" + (j + 1) + ".weight", require(w, dense + "kernel").transpose());
                out.put(t + "mlp.fc" + (j + 1) + ".bias", require(w, dense + "bias"));
            }
        }
        out.putAll(w); // whatever is left (pre_logits, ...) is reported as unused by the loader
        return out;
    }

    /** A query/key/value kernel {@code [D_in, H, dh]} as a PyTorch weight {@code [H*dh, D_in]}. */
    private static NDArray flatKernel(NDArray kernel) {
        return kernel.reshape(kernel.getShape().get(0), -1).transpose();
    }

    private static NDArray require(Map<String, NDArray> w, String key) {
        NDArray value = w.remove(key);
        if (value == null) {
            throw new PeftException("Google ViT .npz: missing array '" + key + "' (is this a ViT checkpoint of the right depth?)");
        }
        return value;
    }
}
