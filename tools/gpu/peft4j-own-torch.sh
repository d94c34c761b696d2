#!/usr/bin/env bash
# Runs peft4j from a bundle (tools/gpu/make-gpu-bundle.sh) on the PyTorch that python3 imports, e.g. a CUDA torch
# from pip on a GPU machine without Java: builds DJL's JNI for that torch once (tools/gpu/build-djl-jni.sh, about
# a minute on 16 cores), points DJL at it (PYTORCH_LIBRARY_PATH, PYTORCH_VERSION, PYTORCH_FLAVOR) and runs peft4j.
#
#   tools/gpu/peft4j-own-torch.sh BUNDLE list-devices
#   tools/gpu/peft4j-own-torch.sh BUNDLE bench --backbone vit_base_patch16_224 --method lora --train --batch 64
#
# Environment: PYTHON (default python3), DJL_CACHE_DIR (default BUNDLE/djl-cache), PEFT4J_JAVA_OPTS,
# TORCH_ALLOW_TF32_CUBLAS_OVERRIDE (default 1, as ./peft4j).
set -euo pipefail
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
bundle="$(cd "$1" && pwd)"; shift
python="${PYTHON:-python3}"

torch_dir="$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
version="$("$python" -c 'import torch; print(torch.__version__.split("+")[0])')"
flavor="$("$python" -c 'import torch; v = torch.version.cuda; print("cu" + v.replace(".", "") if v else "cpu")')"
djl_version="$(cat "$bundle/djl-version")"
export DJL_CACHE_DIR="${DJL_CACHE_DIR:-$bundle/djl-cache}"
jni="$DJL_CACHE_DIR/pytorch/$version-$flavor-linux-x86_64/$djl_version-libdjl_torch.so"

# CUDA headers and runtime: the toolkit's and those of pip's nvidia-* packages next to torch
cuda_dirs=()
for d in "${CUDA_HOME:-/usr/local/cuda}" "$torch_dir"/../nvidia/*/ "$torch_dir"/../nvidia/*/*/; do
  [[ -d "$d/include" || -d "$d/lib" || -d "$d/lib64" ]] && cuda_dirs+=("$(cd "$d" && pwd)")
done
if [[ ! -f "$jni" ]]; then
  build=("$tools/build-djl-jni.sh" --djl-src "$bundle/djl-src" --torch "$torch_dir" --header-dir "$bundle/jni-header"
    --java-home "$bundle/java" --out "$jni")
  if [[ $flavor == cu* ]]; then
    includes=""; for d in "${cuda_dirs[@]}"; do [[ -d "$d/include" ]] && includes+=" -I$d/include"; done
    # the CUDA parts (emptying the cache for bench's memory figures) need the CUDA headers; without them, build the rest
    CXXFLAGS_EXTRA="$includes" "${build[@]}" --cuda || { echo "peft4j-own-torch: building without DJL's CUDA parts" >&2; "${build[@]}"; }
  else
    "${build[@]}"
  fi
fi

java="$bundle/jre/bin/java"
[[ -x "$java" ]] || tar -C "$bundle" -xzf "$bundle/jre.tgz"
# DJL finds the GPUs through libcudart (JNA): let it see the toolkit's and pip's
lib_path=""
for d in "${cuda_dirs[@]}"; do for l in lib lib64; do [[ -d "$d/$l" ]] && lib_path+="$d/$l:"; done; done
export LD_LIBRARY_PATH="${lib_path}${LD_LIBRARY_PATH:-}"
export PYTORCH_LIBRARY_PATH="$torch_dir/lib" PYTORCH_VERSION="$version" PYTORCH_FLAVOR="$flavor"
export TORCH_ALLOW_TF32_CUBLAS_OVERRIDE="${TORCH_ALLOW_TF32_CUBLAS_OVERRIDE:-1}"
# shellcheck disable=SC2086 # PEFT4J_JAVA_OPTS is a list of JVM options
exec "$java" ${PEFT4J_JAVA_OPTS:-} -Djna.library.path="${lib_path%:}" -jar "$bundle/app/peft4j.jar" "$@"
