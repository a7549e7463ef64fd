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
# mnetc, tract and the onnxruntime worker all on one CPU, so that no engine keeps a private L2
# warm while the others run.
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
"${pin[@]}" target/release/mnetc-bench --onnxruntime .venv/bin/python "$@"
