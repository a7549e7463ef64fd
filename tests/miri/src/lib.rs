//! Generated generic code for tiny networks (`build.rs`), run by its tests: natively in the
//! test suite, and under Miri in `.ci/run` (`cargo +nightly miri test -p mnetc-miri`), where
//! every access through the unsafe views of the weights and the arena is checked for bounds,
//! alignment and aliasing. The outputs must match the reference interpreter's.

#![no_std]

macro_rules! generated {
    ($name:ident) => {
        #[allow(clippy::all, unused)]
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
        }
    };
}

generated!(v2);
generated!(v3_small);
generated!(v2_int8);

#[cfg(test)]
mod tests {
    extern crate alloc;
    extern crate std;
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    fn floats(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    /// Asserts the generated output is within `tol * max(1, max |expected|)` of the
    /// interpreter's.
    fn check(name: &str, got: &[f32], expected: &[f32], tol: f32) {
        assert_eq!(got.len(), expected.len(), "{name}");
        let scale = expected.iter().fold(1f32, |m, v| m.max(v.abs()));
        for (i, (g, e)) in got.iter().zip(expected).enumerate() {
            assert!((g - e).abs() <= tol * scale, "{name}[{i}]: {g} vs {e}");
        }
    }

    macro_rules! float_case {
        ($test:ident, $m:ident) => {
            #[test]
            fn $test() {
                use super::$m as net;
                let input = floats(include_bytes!(concat!(
                    env!("OUT_DIR"),
                    "/",
                    stringify!($m),
                    ".input.f32"
                )));
                let expected = floats(include_bytes!(concat!(
                    env!("OUT_DIR"),
                    "/",
                    stringify!($m),
                    ".expected.f32"
                )));
                let input: Box<[f32; net::INPUT_LEN]> =
                    input.into_boxed_slice().try_into().unwrap();
                let mut output = Box::new([0f32; net::OUTPUT_LEN]);
                let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
                net::forward(&input, &mut output, &mut scratch);
                check(stringify!($m), &output[..], &expected, 1e-4);
            }
        };
    }

    float_case!(v2_matches_the_interpreter, v2);
    float_case!(v3_small_matches_the_interpreter, v3_small);

    /// The int8 network with its weights read at run time (`Net::from_bytes`): the
    /// interpreter's output steps, and a truncated weights file refused.
    #[test]
    fn v2_int8_with_run_time_weights_matches_the_interpreter() {
        use super::v2_int8 as net;
        let bytes = include_bytes!(concat!(env!("OUT_DIR"), "/v2_int8.weights"));
        assert!(net::Net::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let model = net::Net::from_bytes(bytes).unwrap();
        let input = floats(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/v2_int8.input.f32"
        )));
        let expected = floats(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/v2_int8.expected.f32"
        )));
        let input: Box<[f32; net::INPUT_LEN]> = input.into_boxed_slice().try_into().unwrap();
        let mut output = Box::new([0f32; net::OUTPUT_LEN]);
        let mut scratch = mnetc_runtime::boxed_zeroed::<net::Scratch>();
        model.forward(&input, &mut output, &mut scratch);
        let step = floats(include_bytes!(concat!(
            env!("OUT_DIR"),
            "/v2_int8.step.f32"
        )))[0];
        let mut off = 0;
        for (g, e) in output.iter().zip(&expected) {
            off += usize::from(((g - e) / step).abs() > 0.5);
        }
        // The generated integer arithmetic is the interpreter's: the same steps.
        assert_eq!(
            off, 0,
            "{off} outputs off by a step or more: {output:?} vs {expected:?}"
        );
    }
}
