"""Makes the int8 TFLite models of the benchmark's LiteRT column: Keras MobileNet v1 1.0-224,
0.5-128 and 0.25-128 and MobileNetV2 1.0-224 (logits, no softmax), seeded random weights,
quantized by the TFLite converter as TFLite's int8 MobileNets are (full integer: int8
activations with per-tensor scales, per-channel int8 weights, calibrated on 16 seeded N(0, 1)
inputs, float input and output), into models/litert_LABEL.tflite (not committed). The weights
are random: LiteRT times the same architecture as the onnxruntime and mnetc columns, not the
same file.

    .venv/bin/python litert_models.py  # in tests/bench; needs tensorflow-cpu (with-onnxruntime.sh
                                       # installs it with MNETC_BENCH_LITERT=1)
"""
import os

import numpy as np

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [
    ("1.0_224_int8", tf.keras.applications.MobileNet, 1.0, 224),
    ("0.5_128_int8", tf.keras.applications.MobileNet, 0.5, 128),
    ("0.25_128_int8", tf.keras.applications.MobileNet, 0.25, 128),
    ("v2_1.0_224_int8", tf.keras.applications.MobileNetV2, 1.0, 224),
]


def main():
    os.makedirs(os.path.join(HERE, "models"), exist_ok=True)
    for label, arch, alpha, res in MODELS:
        out = os.path.join(HERE, "models", f"litert_{label}.tflite")
        if os.path.exists(out):
            continue
        tf.keras.utils.set_random_seed(1)
        model = arch(input_shape=(res, res, 3), alpha=alpha, weights=None, classes=1000,
                     classifier_activation=None)

        def calibration():
            rng = np.random.RandomState(2024)
            for _ in range(16):
                yield [rng.standard_normal((1, res, res, 3)).astype(np.float32)]

        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        with open(out, "wb") as f:
            f.write(converter.convert())
        print("wrote", out)


if __name__ == "__main__":
    main()
