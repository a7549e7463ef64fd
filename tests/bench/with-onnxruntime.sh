#!/usr/bin/env bash
# The benchmark with an onnxruntime column: installs onnxruntime into its own virtual
# environment (tests/bench/.venv) with pip, then runs mnetc-bench with the worker.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet onnxruntime numpy
fi
# On a CPU with AVX-512F, mnetc's code for the avx512 target, avx512vnni with AVX-512 VNNI too
# (MNETC_BENCH_AVX2=1: avx2's).
if grep -qw avx512f /proc/cpuinfo 2>/dev/null && [ -z "${MNETC_BENCH_AVX2:-}" ]; then
    if grep -qw avx512_vnni /proc/cpuinfo; then
        export RUSTFLAGS="-C target-feature=+avx2,+fma,+avx512f,+avx512vnni" CARGO_TARGET_DIR=target/avx512vnni
    else
        export RUSTFLAGS="-C target-feature=+avx2,+fma,+avx512f" CARGO_TARGET_DIR=target/avx512
    fi
fi
cargo build --release --quiet
# mnetc-bench pins every one-thread run (its own, tract's and the worker's) to the first CPU, so
# that no engine keeps a private L2 warm while the others run; runs on several threads
# (--threads N) use every CPU.
"${CARGO_TARGET_DIR:-target}/release/mnetc-bench" --onnxruntime .venv/bin/python "$@"
