#!/usr/bin/env bash
# The benchmark with an onnxruntime column: installs onnxruntime into its own virtual
# environment (tests/bench/.venv) with pip, then runs mnetc-bench with the worker. With
# MNETC_BENCH_LITERT=1 also a LiteRT (XNNPACK) column on the int8 models: installs LiteRT and
# TensorFlow (to make the int8 TFLite models, litert_models.py) into the same environment.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet onnxruntime numpy
fi
# mnetc's code for the x86 target the CPU runs with the most: avx512vnni (AVX-512F and VNNI),
# avx512, avxvnni (AVX-VNNI), else avx2 (MNETC_BENCH_TARGET=NAME picks one of them, for example
# MNETC_BENCH_TARGET=avx2 on any of these CPUs).
has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
target="${MNETC_BENCH_TARGET:-}"
if [ -z "$target" ]; then
    if has avx512f && has avx512_vnni; then target=avx512vnni
    elif has avx512f; then target=avx512
    elif has avx_vnni; then target=avxvnni
    else target=avx2
    fi
fi
case "$target" in
    avx2) features="+avx2,+fma" ;;
    avxvnni) features="+avx2,+fma,+avxvnni" ;;
    avx512) features="+avx2,+fma,+avx512f" ;;
    avx512vnni) features="+avx2,+fma,+avx512f,+avx512vnni" ;;
    *) echo "MNETC_BENCH_TARGET: one of avx2, avxvnni, avx512, avx512vnni" >&2; exit 2 ;;
esac
# avx2's build in cargo's own directory, the others beside it.
export RUSTFLAGS="-C target-feature=$features"
if [ "$target" != avx2 ]; then export CARGO_TARGET_DIR="target/$target"; fi
litert=()
if [ -n "${MNETC_BENCH_LITERT:-}" ]; then
    if ! .venv/bin/python -c "import ai_edge_litert, tensorflow" 2>/dev/null; then
        .venv/bin/pip install --quiet ai-edge-litert==2.3.0 tensorflow-cpu==2.21.0
    fi
    .venv/bin/python litert_models.py
    litert=(--litert .venv/bin/python)
fi
cargo build --release --quiet
# mnetc-bench pins every one-thread run (its own, tract's and the worker's) to the first CPU, so
# that no engine keeps a private L2 warm while the others run; runs on several threads
# (--threads N) use every CPU.
"${CARGO_TARGET_DIR:-target}/release/mnetc-bench" --onnxruntime .venv/bin/python "${litert[@]}" "$@"
