"""PyTorch eager reference for `peft4j bench`: one training step of ViT-B/16 + LoRA (r 8 on q and v) with AdamW.

The same work as `peft4j bench --backbone vit_base_patch16_224 --method lora --train` (timm's ViT-B/16 shapes:
224 px, patch 16, 768 wide, 12 blocks, 12 heads, MLP 3072, qkv bias, pre-norm, cls token; 100 classes; frozen
backbone, LoRA on the q and v rows of every fused qkv, trainable head; cross-entropy; AdamW lr 1e-4 wd 1e-4).
Plain PyTorch, no timm, so any torch >= 2.0 runs it:

    OMP_NUM_THREADS=1 python3 tools/bench/pytorch_vit_lora_step.py --batch 8 --threads 1 --attention sdpa
    python3 tools/bench/pytorch_vit_lora_step.py --device cuda --batch 64 --precision tf32   # on a GPU
    python3 tools/bench/pytorch_vit_lora_step.py --model vit_micro_patch4_32 --batch 1 --iterations 200

`--model` builds another peft4j ViT's shapes; the micro one at batch 1 does almost no arithmetic, so its step time is
the per-op host time of the framework (Python and dispatch here; Java, JNI and dispatch in peft4j), which is what
bounds a GPU step when the GPU's own work is short.

Prints the median step time and images/s (same median-of-iterations rule as peft4j bench).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoraQkv(nn.Module):
    """A frozen fused qkv Linear plus LoRA updates on its q and v output rows (scale alpha / r = 1)."""

    def __init__(self, dim: int, rank: int):
        super().__init__()
        self.dim = dim
        self.qkv = nn.Linear(dim, 3 * dim)
        self.a_q = nn.Parameter(torch.randn(rank, dim) / dim ** 0.5)
        self.b_q = nn.Parameter(torch.zeros(dim, rank))
        self.a_v = nn.Parameter(torch.randn(rank, dim) / dim ** 0.5)
        self.b_v = nn.Parameter(torch.zeros(dim, rank))

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q + (x @ self.a_q.t()) @ self.b_q.t()
        v = v + (x @ self.a_v.t()) @ self.b_v.t()
        return q, k, v


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, rank: int, attention: str):
        super().__init__()
        self.heads = heads
        self.attention = attention
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = LoraQkv(dim, rank)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = (t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2) for t in self.qkv(self.norm1(x)))
        if self.attention == "sdpa":
            a = F.scaled_dot_product_attention(q, k, v)
        else:
            a = ((q * (d // self.heads) ** -0.5) @ k.transpose(-2, -1)).softmax(-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class VitLora(nn.Module):
    def __init__(self, attention: str, classes: int = 100, rank: int = 8, size: int = 224, patch: int = 16,
                 dim: int = 768, depth: int = 12, heads: int = 12, hidden: int = 3072):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + (size // patch) ** 2, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, hidden, rank, attention) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, images):
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


# peft4j backbone -> (image size, patch, width, depth, heads), MLP 4x wide
MODELS = {
    "vit_base_patch16_224": (224, 16, 768, 12, 12),
    "vit_tiny_patch16_224": (224, 16, 192, 12, 3),
    "vit_micro_patch4_32": (32, 4, 64, 4, 4),
}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), default="vit_base_patch16_224",
                   help="the peft4j backbone whose shapes to build (vit_micro_patch4_32: a step that is almost all host time)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave torch's default)")
    p.add_argument("--attention", choices=["sdpa", "math"], default="sdpa")
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=["fp32", "tf32", "fp16", "bf16"], default="fp32",
                   help="fp16 / bf16: autocast (PyTorch's usual mixed precision)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.precision == "tf32"
    torch.manual_seed(0)
    size, patch, dim, depth, heads = MODELS[args.model]
    model = VitLora(args.attention, size=size, patch=patch, dim=dim, depth=depth, heads=heads, hidden=4 * dim).to(args.device)
    for name, param in model.named_parameters():
        param.requires_grad = ".a_" in name or ".b_" in name or name.startswith("head.")
    trainable = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=1e-4)
    scaler = torch.amp.GradScaler(enabled=args.precision == "fp16")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(args.precision)
    times = []
    for i in range(args.warmup + args.iterations):
        images = torch.randn(args.batch, 3, size, size, device=args.device)
        labels = torch.randint(0, 100, (args.batch,), device=args.device)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(args.device.split(":")[0], dtype=dtype, enabled=dtype is not None):
            loss = F.cross_entropy(model(images).float(), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"{args.model} torch {torch.__version__} {args.device} threads {torch.get_num_threads()} {args.precision} {args.attention} "
          f"batch {args.batch}: train step median {median * 1e3:.1f} ms, {args.batch / median:.1f} img/s")


if __name__ == "__main__":
    main()
