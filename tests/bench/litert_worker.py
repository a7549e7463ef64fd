"""LiteRT's turn in mnetc-bench (`--litert PYTHON`): the protocol of ort_worker.py on a TFLite
model, run by LiteRT's interpreter (`ai_edge_litert`) with its default XNNPACK delegate.

    load MODEL INPUT [THREADS] -> loads the model with one thread, feeds it the raw f32 input
                                  (reshaped to the model's input shape: the benchmark's input
                                  may be NCHW, and the model's weights are not mnetc's, so only
                                  its time matters), runs it, prints the output values
    run [THREADS]              -> runs once (one thread only), pinned to the first CPU, prints
                                  the milliseconds of invoke
    quit
"""
import os
import sys
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

ALL_CPUS = os.sched_getaffinity(0)
interpreter = None

for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    if cmd[0] == "load":
        os.sched_setaffinity(0, ALL_CPUS)
        interpreter = Interpreter(model_path=cmd[1], num_threads=1)
        interpreter.allocate_tensors()
        inp = interpreter.get_input_details()[0]
        x = np.fromfile(cmd[2], dtype=np.float32).reshape(inp["shape"])
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).ravel()
        print(" ".join(repr(float(v)) for v in out), flush=True)
    elif cmd[0] == "run":
        os.sched_setaffinity(0, {min(ALL_CPUS)})
        t = time.perf_counter_ns()
        interpreter.invoke()
        print((time.perf_counter_ns() - t) / 1e6, flush=True)
