#!/usr/bin/env bash
# The benchmark with an onnxruntime column: installs onnxruntime into its own virtual
# environment (tests/bench/.venv) with pip, then runs mnetc-bench with the worker.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet onnxruntime numpy
fi
cargo run --release -- --onnxruntime .venv/bin/python "$@"
