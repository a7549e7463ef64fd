#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, from the committed seeds
# (seeds/<target>/) and the corpus earlier runs grew (corpus/<target>/, not committed), and
# prints each target's final libFuzzer figures: executions, coverage (edges), features, corpus
# size, executions per second. Exits 1 if a target crashed; the input is in
# artifacts/<target>/ (copy it into seeds/<target>/ as crash-NAME once fixed: the replay test
# then keeps it fixed). Needs the nightly toolchain and cargo-fuzz (.ci/setup installs both).
#
#   compiler/fuzz/run.sh 60                 # every target, 60 s each (what .ci/run does)
#   compiler/fuzz/run.sh 1800 onnx_import   # 30 minutes of one target
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(onnx_import json_import safetensors weights photo)
fi
# Extra seeds from the repository's fixtures, read in place.
extra_photo=(../../tests/fixtures/photos/calibrate)

cargo +nightly fuzz build -O -a
status=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" logs
    dirs=("corpus/$t" "seeds/$t")
    if [ "$t" = photo ]; then dirs+=("${extra_photo[@]}"); fi
    # (Not in artifacts/: cargo fuzz reports the newest file there as the failing input.)
    log="logs/$t.log"
    # -rss_limit_mb: the decoders' and the compiler's own limits keep a run far below it;
    # -timeout: no single input may take more than 10 s.
    if cargo +nightly fuzz run -O -a "$t" "${dirs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
        tail -40 "$log"
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
    ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
    corp=$(grep -o 'corp: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
    speed=$(grep -o 'exec/s: [0-9]*' <<<"$last" | grep -o '[0-9]*' || echo ?)
    summary+=("$(printf '%-12s %-5s %6ss %10s runs  cov %6s  ft %6s  corpus %5s  %6s exec/s' \
        "$t" "$result" "$seconds" "$runs" "$cov" "$ft" "$corp" "$speed")")
done
printf '%s\n' "${summary[@]}"
exit $status
