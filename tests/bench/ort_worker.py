"""onnxruntime's turn in mnetc-bench: reads commands on stdin, one per line.

    load MODEL INPUT   -> loads the model (1 intra-op thread, all graph optimisations), runs it
                          on the raw f32 input, prints the output values
    run                -> runs once, prints the milliseconds of session.run
    quit
"""
import sys
import time

import numpy as np
import onnxruntime as ort

session = feed = None
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    if cmd[0] == "load":
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(cmd[1], opts, providers=["CPUExecutionProvider"])
        inp = session.get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        feed = {inp.name: np.fromfile(cmd[2], dtype=np.float32).reshape(shape)}
        out = session.run(None, feed)[0].ravel()
        print(" ".join(repr(float(v)) for v in out), flush=True)
    elif cmd[0] == "run":
        t = time.perf_counter_ns()
        session.run(None, feed)
        print((time.perf_counter_ns() - t) / 1e6, flush=True)
