//! Generates the generic target's code for three tiny networks (a MobileNetV2 and a
//! MobileNetV3-Small at width 0.25 and 32 x 32 pixels, random weights; the V2 also quantized to
//! int8 as a QDQ model, with run-time weights) and the reference interpreter's outputs for one
//! input, which the test compares with the generated code's under Miri.

use mnetc::import::json::{Arch, Description};
use std::path::Path;

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn main() -> Result<(), mnetc::Error> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let tiny = |arch| {
        let mut d = Description::paper(arch, 0.25, 32, false);
        d.classes = 5;
        d
    };
    let write = |name: &str, bytes: &[u8]| std::fs::write(out.join(name), bytes).unwrap();
    let mut models = vec![
        ("v2", tiny(Arch::V2).to_json_pretty().into_bytes(), "json"),
        (
            "v3_small",
            tiny(Arch::V3Small).to_json_pretty().into_bytes(),
            "json",
        ),
    ];
    // The V2 quantized: activation ranges from the interpreter on one input.
    let options = mnetc::Options::default();
    let v2 = mnetc::frontend_bytes(&models[0].1, Path::new("v2.json"), &options)?;
    let shape = v2.shape(v2.input.value).unwrap().to_vec();
    let x = mnetc::rng::Rng::new(11).normal_tensor(&shape, 1.0);
    let ranges = mnetc::ptq::calibrate(
        &v2,
        std::slice::from_ref(&x),
        mnetc::ptq::Method::MinMax,
        || {},
    )?;
    models.push((
        "v2_int8",
        mnetc::ptq::write::qdq_bytes(&v2, &ranges, false)?,
        "onnx",
    ));
    for (name, bytes, ext) in &models {
        let model = out.join(format!("{name}.{ext}"));
        std::fs::write(&model, bytes).unwrap();
        mnetc::Builder::new()
            .name(name)
            .target(mnetc::codegen::Target::GENERIC)
            .runtime_weights(*name == "v2_int8")
            .compile(&model)?;
        let graph = mnetc::frontend(&model, &options)?;
        let y = mnetc::interp::run(&graph, &x)?;
        write(&format!("{name}.input.f32"), &f32_bytes(&x.to_f32()));
        write(&format!("{name}.expected.f32"), &f32_bytes(&y[0].to_f32()));
        // The int8 model's output quantization step: the scale of its last DequantizeLinear.
        let out = graph.outputs[0];
        let producer = graph.producer(out).map(|p| &graph.nodes[p]);
        if let Some(node) = producer.filter(|n| {
            matches!(
                n.op,
                mnetc::ir::Op::Quant(mnetc::ir::QuantOp::DequantizeLinear { .. })
            )
        }) {
            let q = graph.values[node.input(0).unwrap()].quant.as_ref().unwrap();
            write(&format!("{name}.step.f32"), &f32_bytes(&q.scale[..1]));
        }
    }
    Ok(())
}
