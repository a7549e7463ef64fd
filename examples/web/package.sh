#!/usr/bin/env bash
# Packages the trained MobileNetV2 for examples/web: pkg/mobilenet.wasm and pkg/mobilenet.js
# (`mnetc package --platform web`, ImageNet labels), and the two sample photos beside them when
# ../shared/models has them. Then serve this folder with any static server:
#   examples/web/package.sh && python3 -m http.server -d examples/web 8000
# and open http://127.0.0.1:8000/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="${1:-$root/tests/fixtures/mobilenet_v2_imagenet.onnx}"
out="$here/pkg"
mkdir -p "$out"
cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p mnetc-cli -- \
    package "$model" --platform web --name mobilenet -o "$out" \
    --labels "$root/tests/fixtures/imagenet_classes.txt"
samples=()
for photo in cat.png coffee.png; do
    if [ -f "$root/../shared/models/images/$photo" ]; then
        cp -f "$root/../shared/models/images/$photo" "$out/"; chmod u+w "$out/$photo"
        samples+=("\"$photo\"")
    fi
done
(IFS=,; echo "[${samples[*]}]") > "$out/samples.json"
echo "packaged into $out; serve $here (python3 -m http.server -d $here) and open it"
