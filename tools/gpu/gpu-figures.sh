#!/usr/bin/env bash
# The GPU figures of the README (issue 13): ViT-B/16 at batch 64, LoRA / MLAE / DMLoRA training steps per precision
# and attention kernel with peft4j, and the same step in plain PyTorch eager on the same card for reference.
# Runs on a GPU machine with a CUDA torch for python3 and no Java, from a bundle made by make-gpu-bundle.sh:
#
#   tools/gpu/gpu-figures.sh BUNDLE OUT_DIR
#
# Writes OUT_DIR/devices.txt, bench-*.csv, bench.log (with a batch-2 step, whose time is host time, and the op
# profile of a LoRA fp16 step) and pytorch.txt (batch 64 per precision, and batch 2 fp16).
set -uo pipefail
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -ne 2 || "$1" == -h || "$1" == --help ]]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
bundle="$1" out="$2"
mkdir -p "$out"
peft4j() { "$tools/peft4j-own-torch.sh" "$bundle" "$@"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/devices.txt"
peft4j list-devices 2>&1 | tee -a "$out/devices.txt"

common=(bench --backbone vit_base_patch16_224 --train --batch 64 --iterations 20 --warmup 5 --device gpu)
{
  echo "== methods, fp16 and tf32, sdpa"
  peft4j "${common[@]}" --method lora,mlae,dmlora,lora --precision fp16,tf32 --attention sdpa --csv "$out/bench-methods.csv"
  echo "== LoRA, math attention"
  peft4j "${common[@]}" --method lora --precision fp16,tf32 --attention math --csv "$out/bench-math.csv"
  echo "== LoRA, batch 128 (what a step costs beyond the GPU's work shows as the difference to twice batch 64)"
  peft4j bench --backbone vit_base_patch16_224 --train --batch 128 --iterations 20 --warmup 5 --device gpu \
    --method lora --precision fp16 --attention sdpa --csv "$out/bench-batch128.csv"
  echo "== LoRA, fp16, batch 2: the GPU's work is tiny, so the step time is the host's (compare pytorch.txt's batch-2 line)"
  peft4j bench --backbone vit_base_patch16_224 --train --batch 2 --iterations 20 --warmup 5 --device gpu \
    --method lora --precision fp16 --attention sdpa
  echo "== LoRA, fp16: the 40 ops with the most host time in one step (bench --profile; on CUDA an op's time is its launch)"
  peft4j bench --backbone vit_base_patch16_224 --train --batch 64 --iterations 3 --warmup 3 --device gpu \
    --method lora --precision fp16 --attention sdpa --profile "$out/profile" > /dev/null
  head -42 "$out"/profile/*.ops.txt && rm -rf "$out/profile"
  echo "== LoRA, fp32 (TF32 off)"
  TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=0 peft4j "${common[@]}" --method lora --precision fp32 --attention sdpa --csv "$out/bench-fp32.csv"
} 2>&1 | tee "$out/bench.log"

for precision in fp32 tf32 fp16 bf16; do
  python3 "$tools/../bench/pytorch_vit_lora_step.py" --device cuda --batch 64 --iterations 20 --warmup 5 \
    --precision "$precision" --attention sdpa
done 2>&1 | tee "$out/pytorch.txt"
python3 "$tools/../bench/pytorch_vit_lora_step.py" --device cuda --batch 2 --iterations 20 --warmup 5 \
  --precision fp16 --attention sdpa 2>&1 | tee -a "$out/pytorch.txt"
