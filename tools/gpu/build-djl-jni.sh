#!/usr/bin/env bash
# Builds DJL's PyTorch JNI (libdjl_torch.so) against a libtorch you already have, e.g. pip's CUDA torch,
# without DJL's build.sh (which downloads a libtorch) or CMake's Torch package (which wants a CUDA toolkit).
#
#   tools/gpu/build-djl-jni.sh --djl-src DIR --torch DIR --header-dir DIR --out FILE [--java-home DIR] [--cuda]
#
#   --djl-src     a checkout (or `git archive`) of deepjavalibrary/djl at the tag of peft4j's DJL (v0.35.1)
#   --torch       the torch package folder (python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
#                 or an unpacked libtorch: it must hold include/ and lib/
#   --header-dir  holds ai_djl_pytorch_jni_PyTorchLibrary.h, made by `javac -h` from DJL's PyTorchLibrary.java
#                 (tools/gpu/make-gpu-bundle.sh makes it, so the GPU machine needs no javac)
#   --java-home   a JDK or any folder with include/jni.h and include/linux/jni_md.h (default: $JAVA_HOME)
#   --cuda        compile DJL's CUDA-only parts (empty-cache, separate inference stream); needs the CUDA headers
#                 ($CUDA_HOME/include, or more -I folders in CXXFLAGS_EXTRA)
#
# DJL loads the result when it is named <djl-version>-libdjl_torch.so in $DJL_CACHE_DIR/pytorch/<torch>-<flavor>-linux-x86_64/.
set -euo pipefail

djl_src="" torch="" header_dir="" out="" java_home="${JAVA_HOME:-}" cuda=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --djl-src) djl_src="$2"; shift 2 ;;
    --torch) torch="$2"; shift 2 ;;
    --header-dir) header_dir="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --java-home) java_home="$2"; shift 2 ;;
    --cuda) cuda=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-djl-jni: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for v in djl_src torch header_dir out java_home; do
  [[ -n "${!v}" ]] || { echo "build-djl-jni: --${v//_/-} is required (see --help)" >&2; exit 2; }
done
native="$djl_src/engines/pytorch/pytorch-native/src/main/native"
[[ -d "$native" ]] || { echo "build-djl-jni: $native not found: is --djl-src a DJL checkout?" >&2; exit 2; }
[[ -f "$torch/include/torch/script.h" ]] || { echo "build-djl-jni: $torch/include/torch/script.h not found" >&2; exit 2; }
[[ -f "$header_dir/ai_djl_pytorch_jni_PyTorchLibrary.h" ]] \
  || { echo "build-djl-jni: $header_dir/ai_djl_pytorch_jni_PyTorchLibrary.h not found" >&2; exit 2; }
[[ -f "$java_home/include/jni.h" ]] || { echo "build-djl-jni: $java_home/include/jni.h not found" >&2; exit 2; }

# The C++ ABI must be libtorch's own: its CMake config says which (pip's torch >= 2.7 uses the C++11 ABI).
abi="$(grep -rhos '_GLIBCXX_USE_CXX11_ABI=[01]' "$torch/share/cmake/Torch/" | head -1 | cut -d= -f2 || true)"
abi="${abi:-1}"
flags=(-std=c++17 -O2 -fPIC -w "-D_GLIBCXX_USE_CXX11_ABI=$abi"
  -I"$torch/include" -I"$torch/include/torch/csrc/api/include"
  -I"$java_home/include" -I"$java_home/include/linux"
  -I"$header_dir" -I"$djl_src/api/src/main/native")
# shellcheck disable=SC2206 # CXXFLAGS_EXTRA is a list of compiler options (e.g. -I/usr/local/cuda/include)
flags+=(${CXXFLAGS_EXTRA:-})
libs=(-ltorch -ltorch_cpu -lc10)
if [[ $cuda == 1 ]]; then
  flags+=(-DUSE_CUDA)
  cuda_home="${CUDA_HOME:-/usr/local/cuda}"
  [[ -d "$cuda_home/include" ]] && flags+=(-I"$cuda_home/include")
  libs+=(-ltorch_cuda -lc10_cuda)
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "build-djl-jni: compiling $(ls "$native"/*.cc | wc -l) files against $torch (C++11 ABI $abi, CUDA parts $cuda)"
ls "$native"/*.cc | xargs -P "$(nproc)" -I{} sh -c 'g++ "$@" -c "{}" -o "'"$work"'/$(basename "{}").o"' _ "${flags[@]}"
mkdir -p "$(dirname "$out")"
g++ -shared -o "$out.tmp" "$work"/*.o -L"$torch/lib" "${libs[@]}" -Wl,-rpath,'$ORIGIN'
mv "$out.tmp" "$out"
echo "build-djl-jni: wrote $out"
