#!/usr/bin/env bash
# The web speed comparison: mnetc's web packages against onnxruntime-web in headless Chromium
# (one thread, interleaved; see bench.mjs). Usage: tests/web/bench.sh [RUNS] [MODEL...], MODEL a
# file stem under ../shared/models or tests/fixtures (default: v1 1.0-224, v1 0.25-128 and the
# trained MobileNetV2). Needs what .ci/setup installs (chromium, npm ci in tests/web).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${1:-100}"
shift || true
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
    models=(mobilenet_v1_1.0_224_folded mobilenet_v1_0.25_128_folded mobilenet_v2_imagenet)
fi
out="$root/target/web-bench"
mkdir -p "$out"
cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p mnetc-cli
for m in "${models[@]}"; do
    src=""
    for d in "$root/../shared/models" "$root/tests/fixtures"; do
        if [ -f "$d/$m.onnx" ]; then src="$d"; break; fi
    done
    if [ -z "$src" ]; then echo "no $m.onnx in ../shared/models or tests/fixtures" >&2; exit 2; fi
    mkdir -p "$out/$m"
    "$root/target/release/mnetc" package "$src/$m.onnx" --platform web --name mobilenet -o "$out/$m" >/dev/null
    cp -f "$src/$m.onnx" "$out/$m/model.onnx"
    # The model's input, or its first named case's (the int8 V2 has .cat and .coffee).
    input="$src/$m.input.f32"
    [ -f "$input" ] || input="$(ls "$src/$m".*.input.f32 | head -1)"
    cp -f "$input" "$out/$m/input.f32"
done
node "$here/bench.mjs" "$out" "$runs" "${models[@]}"
