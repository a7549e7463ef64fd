//! Modules generated with run-time weights (`mnetc compile --runtime-weights`,
//! `Builder::runtime_weights`): `Net::from_bytes` reads the weights file written beside the
//! module and gives onnxruntime's output, and refuses, without panicking, files that are cut
//! short, not weights files, of another format version, for another network, or of the wrong
//! length.

use mnetc_runtime::WeightsError;
use mnetc_tests::{check_close, fixture, read_f32};

mod net {
    include!(concat!(env!("OUT_DIR"), "/runtime_weights.rs"));
}

fn weights(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{name}.weights", env!("OUT_DIR"))).unwrap()
}

#[test]
fn from_bytes_runs_the_network_like_onnxruntime() {
    let f = fixture("mobilenet_v1_0.25_128_bn");
    let (input, expected) = &f.cases[0];
    let net = net::Net::from_bytes(&weights("runtime_weights")).unwrap();
    let x: Box<[f32; net::INPUT_LEN]> = read_f32(input).into_boxed_slice().try_into().unwrap();
    let mut y = Box::new([0f32; net::OUTPUT_LEN]);
    let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
    net.forward(&x, &mut y, &mut scratch);
    check_close(&y[..], &read_f32(expected)).unwrap();
}

#[test]
fn from_bytes_refuses_bad_files_with_a_reason() {
    let good = weights("runtime_weights");
    let refuse = |bytes: &[u8]| match net::Net::from_bytes(bytes) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    assert_eq!(refuse(&good[..10]), WeightsError::TooShort { len: 10 });
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(refuse(&bad), WeightsError::NotAWeightsFile);
    let mut bad = good.clone();
    bad[8] = 2;
    assert_eq!(refuse(&bad), WeightsError::Version { found: 2 });
    // Weights of another network (alpha 0.5): its layout hash differs.
    assert_eq!(
        refuse(&weights("runtime_weights_other")),
        WeightsError::OtherNetwork
    );
    let cut = &good[..good.len() - 4];
    assert_eq!(
        refuse(cut),
        WeightsError::Length {
            expected: good.len() - 64,
            found: good.len() - 68
        }
    );
    let e = refuse(&good[..10]).to_string();
    assert!(e.contains("too short"), "{e}");
}
