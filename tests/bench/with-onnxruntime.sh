#!/usr/bin/env bash
# The benchmark with an onnxruntime column: installs onnxruntime into its own virtual
# environment (tests/bench/.venv) with pip, then runs mnetc-bench with the worker.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet onnxruntime numpy
fi
cargo build --release --quiet
# mnetc-bench pins every one-thread run (its own, tract's and the worker's) to the first CPU, so
# that no engine keeps a private L2 warm while the others run; runs on several threads
# (--threads N) use every CPU.
target/release/mnetc-bench --onnxruntime .venv/bin/python "$@"
