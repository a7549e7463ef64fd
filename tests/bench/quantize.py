"""Makes the int8 models the benchmark times that ../../../shared/models does not have: v1
1.0-224 and 0.25-128 quantized by onnxruntime's `quantize_static` as the shared int8 files are
(QDQ, per-channel int8 weights, uint8 activations, MinMax on 16 seeded N(0, 1) inputs), into
models/ (not committed).

    .venv/bin/python quantize.py      # in tests/bench, after with-onnxruntime.sh made .venv
"""
import os
import numpy as np
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "models")


class Reader(CalibrationDataReader):
    def __init__(self, res):
        rng = np.random.default_rng(2024)
        shape = (1, 3, res, res)
        self.data = iter([{"input": rng.standard_normal(shape).astype(np.float32)} for _ in range(16)])

    def get_next(self):
        return next(self.data, None)


def main():
    os.makedirs(os.path.join(HERE, "models"), exist_ok=True)
    for stem, res in [("mobilenet_v1_1.0_224", 224), ("mobilenet_v1_0.25_128", 128)]:
        out = os.path.join(HERE, "models", f"{stem}_int8_qdq.onnx")
        quantize_static(os.path.join(SHARED, f"{stem}_folded.onnx"), out, Reader(res),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.MinMax)
        print("wrote", out)


if __name__ == "__main__":
    main()
