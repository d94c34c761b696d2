#!/usr/bin/env bash
# Packs what a GPU machine without Java needs to run peft4j on the PyTorch it already has (README, GPU route (b)):
# a jlink'd Java runtime, peft4j's jars without the CPU libtorch, DJL's JNI sources at peft4j's DJL tag and the
# JNI header javac makes from them. tools/gpu/peft4j-own-torch.sh runs peft4j from it on that machine.
#
#   mvn -B -q package -DskipTests
#   tools/gpu/make-gpu-bundle.sh --djl-src DIR --out DIR
#
#   --djl-src  a checkout (or `git archive`) of deepjavalibrary/djl at the tag of peft4j's DJL (v0.35.1): the
#              bundle takes engines/pytorch/pytorch-native/src/main/native, api/src/main/native and PyTorchLibrary.java
#   --out      the bundle folder (about 45 MB: jre.tgz 32 MB, jars 10 MB)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
djl_src="" out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --djl-src) djl_src="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-gpu-bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$djl_src" && -n "$out" ]] || { echo "make-gpu-bundle: --djl-src and --out are required (see --help)" >&2; exit 2; }
app="$here/runner/target"
[[ -f "$app/peft4j.jar" ]] || { echo "make-gpu-bundle: $app/peft4j.jar not found: mvn -B -q package -DskipTests" >&2; exit 2; }
engine_jar="$(ls "$app"/lib/pytorch-engine-*.jar)"
djl_version="$(basename "$engine_jar" .jar)"; djl_version="${djl_version#pytorch-engine-}"
library_java="$djl_src/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
[[ -f "$library_java" ]] || { echo "make-gpu-bundle: $library_java not found: is --djl-src DJL at v$djl_version?" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out/app/lib" "$out/jni-header" "$out/java/include/linux"
cp "$app/peft4j.jar" "$out/app/"
# the CPU libtorch stays behind: the machine's own PyTorch replaces it
find "$app/lib" -name '*.jar' ! -name 'pytorch-native-*' -exec cp {} "$out/app/lib/" \;

# DJL's JNI sources and the header javac makes from PyTorchLibrary.java (the GPU machine has no javac)
for dir in engines/pytorch/pytorch-native/src/main/native api/src/main/native; do
  mkdir -p "$out/djl-src/$dir" && cp -r "$djl_src/$dir/." "$out/djl-src/$dir/"
done
classes="$(mktemp -d)"; trap 'rm -rf "$classes"' EXIT
javac -cp "$(ls "$app"/lib/api-*.jar)" -sourcepath "$djl_src/engines/pytorch/pytorch-engine/src/main/java" \
  -h "$out/jni-header" -d "$classes" "$library_java"
java_home="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
cp "$java_home/include/jni.h" "$out/java/include/"
cp "$java_home/include/linux/jni_md.h" "$out/java/include/linux/"

# a small Java runtime with the modules peft4j and its libraries use
jlink --add-modules java.base,java.desktop,java.logging,java.management,java.naming,java.sql,java.xml,jdk.unsupported,jdk.zipfs,java.scripting,jdk.crypto.ec \
  --strip-debug --no-header-files --no-man-pages --compress=2 --output "$classes/jre"
tar -C "$classes" -czf "$out/jre.tgz" jre
echo "$djl_version" > "$out/djl-version"
echo "make-gpu-bundle: wrote $out ($(du -sh "$out" | cut -f1)); on the GPU machine: tools/gpu/peft4j-own-torch.sh $out list-devices"
