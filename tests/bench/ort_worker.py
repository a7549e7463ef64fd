"""onnxruntime's turn in mnetc-bench: reads commands on stdin, one per line.

    load MODEL INPUT [THREADS] -> loads the model (all graph optimisations) in a session with one
                                  intra-op thread and, with THREADS > 1, one with THREADS, runs it
                                  on the raw f32 input, prints the output values
    run [THREADS]              -> runs once on that session (default 1), prints the milliseconds
                                  of session.run; the one-thread session runs pinned to CPU 0,
                                  the other on every CPU
    quit
"""
import os
import sys
import time

import numpy as np
import onnxruntime as ort

ALL_CPUS = os.sched_getaffinity(0)
sessions = {}
feed = None


def session(model, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    if cmd[0] == "load":
        threads = int(cmd[3]) if len(cmd) > 3 else 1
        # Sessions are made on every CPU, so that the intra-op pool's threads may use them all.
        os.sched_setaffinity(0, ALL_CPUS)
        sessions = {1: session(cmd[1], 1)}
        if threads > 1:
            sessions[threads] = session(cmd[1], threads)
        inp = sessions[1].get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in inp.shape]
        feed = {inp.name: np.fromfile(cmd[2], dtype=np.float32).reshape(shape)}
        out = sessions[1].run(None, feed)[0].ravel()
        for s in sessions.values():
            other = s.run(None, feed)[0].ravel()
            assert np.array_equal(other, out) or np.abs(other - out).max() <= 1e-4 * max(1, np.abs(out).max())
        print(" ".join(repr(float(v)) for v in out), flush=True)
    elif cmd[0] == "run":
        threads = int(cmd[1]) if len(cmd) > 1 else 1
        os.sched_setaffinity(0, {min(ALL_CPUS)} if threads == 1 else ALL_CPUS)
        t = time.perf_counter_ns()
        sessions[threads].run(None, feed)
        print((time.perf_counter_ns() - t) / 1e6, flush=True)
