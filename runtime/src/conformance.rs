//! Test cases every SIMD module runs against the scalar twins, across the tile boundaries:
//! sizes below, equal to, above and not a multiple of the register tile and the vector width;
//! odd spatial sizes; strides 1 and 2; symmetric and asymmetric padding; clamp bounds.
//!
//! Each case macro takes the path of the kernel under test and returns its full name, and
//! [`check_listed`] compares those names with the target's list in `mnetc-targets`: a kernel
//! the compiler can select is a kernel these cases ran, and the reverse.
extern crate std;
use mnetc_targets::{Kernel, TargetDesc};
use std::string::String;
pub use std::vec::Vec;

pub fn data<const N: usize>(seed: u32) -> [f32; N] {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    core::array::from_fn(|_| {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    })
}

pub fn close(got: &[f32], want: &[f32], what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}: [{i}] {g} vs {w}"
        );
    }
}

/// Asserts that two outputs have the same bits.
pub fn same_bits(got: &[f32], want: &[f32], what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.to_bits() == w.to_bits(), "{what}: [{i}] {g} vs {w}");
    }
}

/// A `Parallel` for the tests: `self.0` scoped threads, taking the tasks last first (on
/// WebAssembly, which has no threads under WASI preview 1, the calling thread takes them all,
/// last first).
pub struct Threads(pub usize);

// SAFETY: one atomic counter hands out each index once; the scope joins every thread.
unsafe impl crate::pool::Parallel for Threads {
    fn threads(&self) -> usize {
        self.0
    }

    #[cfg(target_family = "wasm")]
    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        for i in (0..tasks).rev() {
            f(i);
        }
    }

    #[cfg(not(target_family = "wasm"))]
    fn run(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        use core::sync::atomic::{AtomicUsize, Ordering};
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.0 {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= tasks {
                            break;
                        }
                        f(tasks - 1 - i);
                    }
                });
            }
        });
    }
}

pub use crate::pool::Sequential;

pub const CLAMPS: [(f32, f32); 3] = [
    (f32::NEG_INFINITY, f32::INFINITY),
    (0.0, f32::INFINITY),
    (0.0, 0.5),
];

/// The name of a function item, without its generic arguments.
pub fn name_of<F>(_: &F) -> &'static str {
    let full = core::any::type_name::<F>();
    full.split('<').next().unwrap_or(full)
}

/// Packs a `[K][N]` row-major matrix into panels of `nr` columns (`[N/nr][K][nr]`, zero
/// padded), as the compiler does at compile time for targets whose GEMM tile has `nr > 1`.
pub fn pack_gemm_panels(nr: usize, k: usize, n: usize, w: &[f32], out: &mut [f32]) {
    let np = n.div_ceil(nr) * nr;
    for p in 0..np / nr {
        for kk in 0..k {
            for j in 0..nr {
                let col = p * nr + j;
                out[(p * k + kk) * nr + j] = if col < n { w[kk * n + col] } else { 0.0 };
            }
        }
    }
}

/// Seeded bytes.
pub fn bytes<const N: usize>(seed: u32) -> [u8; N] {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(7);
    core::array::from_fn(|_| {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 24) as u8
    })
}

/// Packs `[N][K]` int8 weights as a quantized GEMM `layout` reads them
/// (`[NP/nr][KP/kr][nr][kr]`, zero padded), as the compiler does; `W` is the stored type.
pub fn pack_qgemm<W: From<i8> + Copy>(
    layout: mnetc_targets::QGemmLayout,
    k: usize,
    n: usize,
    w: &[i8],
) -> Vec<W> {
    let (nr, kr) = (layout.nr, layout.kr);
    let (np, kp) = (n.next_multiple_of(nr), k.next_multiple_of(kr));
    let mut out = Vec::with_capacity(np * kp);
    for p in 0..np / nr {
        for g in 0..kp / kr {
            for j in 0..nr {
                for i in 0..kr {
                    let (col, kk) = (p * nr + j, g * kr + i);
                    out.push(W::from(if col < n && kk < k {
                        w[col * k + kk]
                    } else {
                        0
                    }));
                }
            }
        }
    }
    out
}

/// Asserts that `tested` (kind and full function name, from the case macros) names exactly the
/// kernels `desc` lists from its own runtime module.
pub fn check_listed(desc: &TargetDesc, tested: &[(Kernel, &str)]) {
    let own = |path: &str| path.starts_with(desc.runtime_module);
    for kind in Kernel::ALL {
        let path = desc.kernel(kind);
        let full = String::from("mnetc_runtime::") + path;
        let ran: Vec<&str> = tested
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
            .collect();
        if own(path) {
            assert!(
                !ran.is_empty() && ran.iter().all(|n| *n == full),
                "{}: {kind:?} is {full}, but the cases ran {ran:?}",
                desc.name
            );
        } else {
            assert!(
                ran.is_empty(),
                "{}: {kind:?} is {path}, not a kernel of this module, but cases ran {ran:?}",
                desc.name
            );
        }
    }
}

/// A GEMM of `m x k x n` with panels of the target's tile width, every clamp and block size 1
/// and 2, as one task and as one task per row tile and panel on three threads (the same
/// bits); returns the kernel's name.
macro_rules! gemm_case {
    ($($f:ident)::+, $desc:expr, $m:literal, $k:literal, $n:literal) => {{
        $crate::conformance::gemm_case!(@hs false; $($f)::+, $desc, $m, $k, $n);
        $crate::conformance::gemm_case!(@hs true; $($f)::+, $desc, $m, $k, $n)
    }};
    (@hs $hs:literal; $($f:ident)::+, $desc:expr, $m:literal, $k:literal, $n:literal) => {{
        use $crate::conformance::*;
        const NR: usize = $desc.gemm_tile[1];
        const MR: usize = $desc.gemm_tile[0];
        const NP: usize = ($n as usize).div_ceil(NR) * NR;
        const MT: usize = ($m as usize).div_ceil(MR);
        let x = data::<{ $m * $k }>(1);
        let w = data::<{ $k * $n }>(2);
        let b = data::<$n>(3);
        let mut packed = [0f32; NP * $k];
        pack_gemm_panels(NR, $k, $n, &w, &mut packed);
        if NR == 1 {
            // No panels: plain [K][N].
            packed.copy_from_slice(&w);
        }
        let mut bp = [0f32; NP];
        bp[..$n].copy_from_slice(&b);
        let mut name = "";
        for (lo, hi) in CLAMPS {
            let mut want = [0f32; $m * $n];
            $crate::scalar::f32_gemm_minmax::<
                $m, $k, $n, $n, 1, 1, 1, $hs, { $m * $k }, { $k * $n }, { $m * $n },
            >(&x, &w, &b, &mut want, lo, hi, &Sequential);
            let mut got = [0f32; $m * $n];
            let f = $($f)::+::<$m, $k, $n, NP, 1, 1, 1, $hs, { $m * $k }, { NP * $k }, { $m * $n }>;
            f(&x, &packed, &bp, &mut got, lo, hi, &Sequential);
            close(&got, &want, concat!("gemm ", $m, "x", $k, "x", $n, " nb 1"));
            let mut tasks = [0f32; $m * $n];
            $($f)::+::<$m, $k, $n, NP, 1, MT, { NP / NR }, $hs, { $m * $k }, { NP * $k }, { $m * $n }>(
                &x, &packed, &bp, &mut tasks, lo, hi, &Threads(3),
            );
            same_bits(&tasks, &got, concat!("gemm ", $m, "x", $k, "x", $n, " in tasks"));
            let mut got = [0f32; $m * $n];
            $($f)::+::<$m, $k, $n, NP, 2, 1, 1, $hs, { $m * $k }, { NP * $k }, { $m * $n }>(
                &x, &packed, &bp, &mut got, lo, hi, &Sequential,
            );
            close(&got, &want, concat!("gemm ", $m, "x", $k, "x", $n, " nb 2"));
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use gemm_case;

/// A quantized GEMM of `m x k x n` packed as the target's layout, against the scalar one (the
/// same bits: integer sums, one requantization), with a narrowed output range, blocks of 1
/// and 2 panels, and as one task per row tile and panel on three threads; returns the
/// kernel's name.
macro_rules! qgemm_case {
    ($($f:ident)::+, $desc:expr, $m:literal, $k:literal, $n:literal) => {{
        use $crate::conformance::*;
        const L: mnetc_targets::QGemmLayout = $desc.qgemm;
        const NP: usize = ($n as usize).next_multiple_of(L.nr);
        const KP: usize = ($k as usize).next_multiple_of(L.kr);
        const MT: usize = ($m as usize).div_ceil(L.mr);
        let x = bytes::<{ $m * $k }>(1);
        let w: Vec<i8> = bytes::<{ $k * $n }>(2).iter().map(|&v| v as i8).collect();
        let mut b = [0i32; NP];
        let mut s = [0f32; NP];
        for j in 0..$n {
            b[j] = (j as i32 * 7919) % 20001 - 10000;
            s[j] = 2e-4 + j as f32 * 1.3e-5;
        }
        let plain: [i8; $n * $k] = pack_qgemm::<i8>(mnetc_targets::QGemmLayout::PLAIN, $k, $n, &w)
            .try_into()
            .unwrap();
        let packed = pack_qgemm($desc.qgemm, $k, $n, &w).try_into().unwrap();
        // The bias the kernel is given: as the compiler folds it (`QGemmLayout::folded_zero`
        // of a zero point 0).
        let mut bk = b;
        for j in 0..$n {
            let sum: i32 = w[j * $k..][..$k].iter().map(|&v| v as i32).sum();
            bk[j] = b[j].wrapping_sub(L.folded_zero(0).wrapping_mul(sum));
        }
        let mut name = "";
        for q in [
            $crate::scalar::Requant { zero: 128, lo: 0, hi: 255 },
            $crate::scalar::Requant { zero: 3, lo: 3, hi: 200 },
        ] {
            let mut want = [0u8; $m * $n];
            let mut sp = [0f32; $n];
            sp.copy_from_slice(&s[..$n]);
            let mut bp = [0i32; $n];
            bp.copy_from_slice(&b[..$n]);
            $crate::scalar::u8_gemm::<$m, $k, $n, $n, 1, 1, 1, { $m * $k }, { $n * $k }, { $m * $n }>(
                &x, &plain, &bp, &sp, &mut want, q, &Sequential,
            );
            let f = $($f)::+::<$m, $k, $n, NP, 1, 1, 1, { $m * $k }, { NP * KP }, { $m * $n }>;
            let mut got = [0u8; $m * $n];
            f(&x, &packed, &bk, &s, &mut got, q, &Sequential);
            assert_eq!(got, want, concat!("qgemm ", $m, "x", $k, "x", $n));
            let mut tasks = [0u8; $m * $n];
            $($f)::+::<$m, $k, $n, NP, 1, MT, { NP / L.nr }, { $m * $k }, { NP * KP }, { $m * $n }>(
                &x, &packed, &bk, &s, &mut tasks, q, &Threads(3),
            );
            assert_eq!(tasks, want, concat!("qgemm ", $m, "x", $k, "x", $n, " in tasks"));
            let mut blocks = [0u8; $m * $n];
            $($f)::+::<$m, $k, $n, NP, 2, 1, 1, { $m * $k }, { NP * KP }, { $m * $n }>(
                &x, &packed, &bk, &s, &mut blocks, q, &Sequential,
            );
            assert_eq!(blocks, want, concat!("qgemm ", $m, "x", $k, "x", $n, " nb 2"));
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use qgemm_case;

/// Packs `[taps][C]` int8 depthwise weights as `layout` says, as the compiler does.
pub fn pack_qdw<W: From<i8> + Copy>(
    layout: mnetc_targets::QDwLayout,
    kernel: [usize; 2],
    c: usize,
    w: &[i8],
) -> Vec<W> {
    let mut out = std::vec![W::from(0); layout.len(kernel, c)];
    for ky in 0..kernel[0] {
        for kx in 0..kernel[1] {
            for ch in 0..c {
                out[layout.index([ky, kx], ch, kernel, c)] =
                    W::from(w[(ky * kernel[1] + kx) * c + ch]);
            }
        }
    }
    out
}

/// A quantized depthwise `k x k` conv with stride `s` and padding top, left, bottom, right,
/// packed as the target's layout, against the scalar one (the same bits), as one task and as
/// one task per output row on three threads; returns the kernel's name.
macro_rules! qdw_case {
    ($($f:ident)::+, $desc:expr, $h:literal, $w:literal, $c:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        use $crate::conformance::*;
        #[allow(clippy::manual_div_ceil)]
        const OH: usize = ($h + $pt + $pb - $k) / $s + 1;
        #[allow(clippy::manual_div_ceil)]
        const OW: usize = ($w + $pl + $pr - $k) / $s + 1;
        const WN: usize = $desc.qdw.len([$k, $k], $c);
        let x = bytes::<{ $h * $w * $c }>(4);
        let w: Vec<i8> = bytes::<{ $k * $k * $c }>(5).iter().map(|&v| v as i8).collect();
        let plain: [i8; $k * $k * $c] = w.clone().try_into().unwrap();
        let packed: [_; WN] = pack_qdw($desc.qdw, [$k, $k], $c, &w).try_into().unwrap();
        let mut b = [0i32; $c];
        let mut s = [0f32; $c];
        for j in 0..$c {
            b[j] = (j as i32 * 7919) % 2001 - 1000;
            s[j] = 2e-3 + j as f32 * 1.1e-4;
        }
        let mut name = "";
        for (xz, q) in [
            (0, $crate::scalar::Requant { zero: 128, lo: 0, hi: 255 }),
            (201, $crate::scalar::Requant { zero: 3, lo: 3, hi: 200 }),
        ] {
            let mut want = [0u8; OH * OW * $c];
            $crate::scalar::u8_dwconv::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, 1,
                { $h * $w * $c }, { $k * $k * $c }, { OH * OW * $c },
            >(&x, xz, &plain, &b, &s, &mut want, q, &Sequential);
            let f = $($f)::+::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, 1,
                { $h * $w * $c }, WN, { OH * OW * $c },
            >;
            let mut got = [0u8; OH * OW * $c];
            f(&x, xz, &packed, &b, &s, &mut got, q, &Sequential);
            assert_eq!(got, want, concat!("qdwconv ", $h, "x", $w, "x", $c, " s", $s));
            let mut tasks = [0u8; OH * OW * $c];
            $($f)::+::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, OH,
                { $h * $w * $c }, WN, { OH * OW * $c },
            >(&x, xz, &packed, &b, &s, &mut tasks, q, &Threads(3));
            assert_eq!(tasks, want, concat!("qdwconv ", $h, "x", $w, "x", $c, " in tasks"));
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use qdw_case;

/// The quantized depthwise cases: the float ones' shapes (16-channel blocks, partial blocks,
/// strides, asymmetric and wide padding, a 5x5 window).
macro_rules! qdw_cases {
    ($desc:expr, $($d:ident)::+) => {
        #[test]
        fn qdwconv_7x7x3_k3_s1_p1111() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 7, 7, 3, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn qdwconv_7x5x16_k3_s2_p1111() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 7, 5, 16, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn qdwconv_8x8x40_k3_s2_p0011() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 8, 8, 40, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn qdwconv_9x6x32_k3_s1_p1111() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 9, 6, 32, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn qdwconv_5x9x24_k3_s2_p1012() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 5, 9, 24, 3, 2, 1, 0, 1, 2);
        }
        // Rows wider than a SIMD kernel's chunk of output columns (avx2: 69 at stride 1, 35
        // at stride 2), with channels in a partial block.
        #[test]
        fn qdwconv_3x150x20_k3_s1_p1111() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 3, 150, 20, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn qdwconv_4x151x16_k3_s2_p0011() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 4, 151, 16, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn qdwconv_4x4x17_k5_s1_p2222() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 4, 4, 17, 5, 1, 2, 2, 2, 2);
        }
        #[test]
        fn qdwconv_4x5x8_k1_s1_p1111() {
            $crate::conformance::qdw_case!($($d)::+, $desc, 4, 5, 8, 1, 1, 1, 1, 1, 1);
        }
    };
}
pub(crate) use qdw_cases;

/// Tap `t` (`(ky * k + kx) * ci + i`) of a `k x k` window over `ci` channels as `[ky, kx, i]`.
pub fn tap_of(t: usize, k: usize, ci: usize) -> [usize; 3] {
    [t / ci / k, t / ci % k, t % ci]
}

/// A quantized dense conv of `ci` to `co` channels, packed as the target's layout, reading the
/// same input as NHWC and as NCHW, against the scalar one (the same bits), as one task and as
/// one task per output row on three threads; returns the kernel's name.
macro_rules! qconv_case {
    ($($f:ident)::+, $desc:expr, $h:literal, $w:literal, $ci:literal, $co:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        use $crate::conformance::*;
        #[allow(clippy::manual_div_ceil)]
        const OH: usize = ($h + $pt + $pb - $k) / $s + 1;
        #[allow(clippy::manual_div_ceil)]
        const OW: usize = ($w + $pl + $pr - $k) / $s + 1;
        const K: usize = $k * $k * $ci;
        const WN: usize = $desc.qconv.len([$k, $k, $ci], $co);
        let x = bytes::<{ $h * $w * $ci }>(7);
        let w: Vec<i8> = bytes::<{ K * $co }>(8).iter().map(|&v| v as i8).collect();
        let plain: [i8; K * $co] = w.clone().try_into().unwrap();
        let mut packed = std::vec![0i8; WN];
        for t in 0..K {
            let tap = tap_of(t, $k, $ci);
            for o in 0..$co {
                packed[$desc.qconv.index(tap, o, [$k, $k, $ci], $co)] = w[t * $co + o];
            }
        }
        let packed: [_; WN] = packed.into_iter().map(Into::into).collect::<Vec<_>>().try_into().unwrap();
        let mut b = [0i32; $co];
        let mut s = [0f32; $co];
        for j in 0..$co {
            b[j] = (j as i32 * 7919) % 2001 - 1000;
            s[j] = 1e-3 + j as f32 * 1.1e-4;
        }
        let q = $crate::scalar::Requant { zero: 5, lo: 5, hi: 250 };
        // NHWC, then NCHW strides over the same buffer; the kernel's name.
        macro_rules! run {
            ($xsc:expr, $xsy:expr, $xsx:expr) => {{
                let mut want = [0u8; OH * OW * $co];
                $crate::scalar::u8_conv::<
                    $h, $w, $ci, $co, $k, $k, $s, $s, $pt, $pl, OH, OW, { $xsc }, { $xsy }, { $xsx }, 1,
                    { $h * $w * $ci }, { K * $co }, { OH * OW * $co },
                >(&x, 77, &plain, &b, &s, &mut want, q, &Sequential);
                let f = $($f)::+::<
                    $h, $w, $ci, $co, $k, $k, $s, $s, $pt, $pl, OH, OW, { $xsc }, { $xsy }, { $xsx }, 1,
                    { $h * $w * $ci }, WN, { OH * OW * $co },
                >;
                let mut got = [0u8; OH * OW * $co];
                f(&x, 77, &packed, &b, &s, &mut got, q, &Sequential);
                assert_eq!(got, want, concat!("qconv ", $h, "x", $w, " ", $ci, "to", $co));
                let mut tasks = [0u8; OH * OW * $co];
                $($f)::+::<
                    $h, $w, $ci, $co, $k, $k, $s, $s, $pt, $pl, OH, OW, { $xsc }, { $xsy }, { $xsx }, OH,
                    { $h * $w * $ci }, WN, { OH * OW * $co },
                >(&x, 77, &packed, &b, &s, &mut tasks, q, &Threads(3));
                assert_eq!(tasks, want, concat!("qconv ", $h, "x", $w, " in tasks"));
                name_of(&f)
            }};
        }
        run!(1, $w * $ci, $ci);
        run!($h * $w, $w, 1)
    }};
}
pub(crate) use qconv_case;

/// The quantized dense conv cases: stems (3 channels in, 8 to 72 out, strides 1 and 2,
/// asymmetric padding), a 7x7 window, a 1x1 window with padding wider than it.
macro_rules! qconv_cases {
    ($desc:expr, $($c:ident)::+) => {
        #[test]
        fn qconv_9x9_3to5_k3_s2_p1111() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 9, 9, 3, 5, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn qconv_8x7_3to16_k3_s2_p0011() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 8, 7, 3, 16, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn qconv_7x7_3to32_k3_s1_p1111() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 7, 7, 3, 32, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn qconv_6x5_4to72_k3_s1_p1012() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 6, 5, 4, 72, 3, 1, 1, 0, 1, 2);
        }
        // Wide rows: interior pixels go several at a time (neon: eight in lanes when the
        // input is NCHW), remainders one at a time; channels in blocks of 8 and 16.
        #[test]
        fn qconv_5x40_3to8_k3_s2_p0011() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 5, 40, 3, 8, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn qconv_4x29_3to20_k3_s1_p1111() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 4, 29, 3, 20, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn qconv_6x35_3to32_k3_s2_p1111() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 6, 35, 3, 32, 3, 2, 1, 1, 1, 1);
        }
        // A 7x7 window (49 taps: the RVV kernel's tap list goes in two blocks).
        #[test]
        fn qconv_12x11_2to5_k7_s1_p3333() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 12, 11, 2, 5, 7, 1, 3, 3, 3, 3);
        }
        #[test]
        fn qconv_4x5_3to9_k1_s1_p1111() {
            $crate::conformance::qconv_case!($($c)::+, $desc, 4, 5, 3, 9, 1, 1, 1, 1, 1, 1);
        }
    };
}
pub(crate) use qconv_cases;

/// The quantized GEMM cases: the float GEMM's shapes, odd K, and a classifier's.
macro_rules! qgemm_cases {
    ($desc:expr, $($g:ident)::+) => {
        #[test]
        fn qgemm_1x1x1() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 1, 1, 1);
        }
        #[test]
        fn qgemm_1x17x1000() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 1, 17, 1000);
        }
        #[test]
        fn qgemm_2x1025x40() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 2, 1025, 40);
        }
        #[test]
        fn qgemm_5x3x8() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 5, 3, 8);
        }
        #[test]
        fn qgemm_6x8x16() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 6, 8, 16);
        }
        #[test]
        fn qgemm_7x17x17() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 7, 17, 17);
        }
        #[test]
        fn qgemm_13x33x40() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 13, 33, 40);
        }
        #[test]
        fn qgemm_49x64x15() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 49, 64, 15);
        }
        #[test]
        fn qgemm_30x5x70() {
            $crate::conformance::qgemm_case!($($g)::+, $desc, 30, 5, 70);
        }
    };
}
pub(crate) use qgemm_cases;

/// A depthwise `k x k` conv with stride `s` and padding top, left, bottom, right.
macro_rules! dw_case {
    ($($f:ident)::+, $h:literal, $w:literal, $c:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        $crate::conformance::dw_case!(@hs false; $($f)::+, $h, $w, $c, $k, $s, $pt, $pl, $pb, $pr);
        $crate::conformance::dw_case!(@hs true; $($f)::+, $h, $w, $c, $k, $s, $pt, $pl, $pb, $pr)
    }};
    (@hs $hs:literal; $($f:ident)::+, $h:literal, $w:literal, $c:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        use $crate::conformance::*;
        // (Clippy reads a 1x1 window with stride 1 as a hand-written div_ceil.)
        #[allow(clippy::manual_div_ceil)]
        const OH: usize = ($h + $pt + $pb - $k) / $s + 1;
        #[allow(clippy::manual_div_ceil)]
        const OW: usize = ($w + $pl + $pr - $k) / $s + 1;
        let x = data::<{ $h * $w * $c }>(4);
        let w = data::<{ $k * $k * $c }>(5);
        let b = data::<$c>(6);
        let mut name = "";
        for (lo, hi) in CLAMPS {
            let mut want = [0f32; OH * OW * $c];
            let mut got = [0f32; OH * OW * $c];
            $crate::scalar::f32_dwconv_nhwc_minmax::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, 1, $hs,
                { $h * $w * $c }, { $k * $k * $c }, { OH * OW * $c },
            >(&x, &w, &b, &mut want, lo, hi, &Sequential);
            let f = $($f)::+::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, 1, $hs,
                { $h * $w * $c }, { $k * $k * $c }, { OH * OW * $c },
            >;
            f(&x, &w, &b, &mut got, lo, hi, &Sequential);
            close(&got, &want, concat!("dwconv ", $h, "x", $w, "x", $c, " s", $s));
            let mut tasks = [0f32; OH * OW * $c];
            $($f)::+::<
                $h, $w, $c, $k, $k, $s, $s, $pt, $pl, OH, OW, OH, $hs,
                { $h * $w * $c }, { $k * $k * $c }, { OH * OW * $c },
            >(&x, &w, &b, &mut tasks, lo, hi, &Threads(3));
            same_bits(&tasks, &got, concat!("dwconv ", $h, "x", $w, "x", $c, " s", $s, " in tasks"));
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use dw_case;

/// A dense conv with output channels padded to the target's multiple, reading the same input
/// buffer as NHWC and as NCHW; with hard-swish, and with a pad value (`PV`: each tap's
/// contribution from the padding after the weights).
macro_rules! conv_case {
    ($($f:ident)::+, $desc:expr, $h:literal, $w:literal, $ci:literal, $co:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        $crate::conformance::conv_case!(@hs false, false; $($f)::+, $desc, $h, $w, $ci, $co, $k, $s, $pt, $pl, $pb, $pr);
        $crate::conformance::conv_case!(@hs true, false; $($f)::+, $desc, $h, $w, $ci, $co, $k, $s, $pt, $pl, $pb, $pr);
        $crate::conformance::conv_case!(@hs false, true; $($f)::+, $desc, $h, $w, $ci, $co, $k, $s, $pt, $pl, $pb, $pr)
    }};
    (@hs $hs:literal, $pv:literal; $($f:ident)::+, $desc:expr, $h:literal, $w:literal, $ci:literal, $co:literal, $k:literal, $s:literal, $pt:literal, $pl:literal, $pb:literal, $pr:literal) => {{
        use $crate::conformance::*;
        // (Clippy reads a 1x1 window with stride 1 as a hand-written div_ceil.)
        #[allow(clippy::manual_div_ceil)]
        const OH: usize = ($h + $pt + $pb - $k) / $s + 1;
        #[allow(clippy::manual_div_ceil)]
        const OW: usize = ($w + $pl + $pr - $k) / $s + 1;
        const COP: usize = ($co as usize).next_multiple_of($desc.conv_channel_multiple);
        // The weights, then with a pad value each tap's contribution from it.
        const WS: usize = $k * $k * $ci * $co + if $pv { $k * $k * $co } else { 0 };
        const WT: usize = $k * $k * $ci * COP + if $pv { $k * $k * COP } else { 0 };
        let x = data::<{ $h * $w * $ci }>(7);
        let w = data::<WS>(8);
        let b = data::<$co>(9);
        let mut wp = [0f32; WT];
        for (i, row) in w.chunks($co).enumerate() {
            wp[i * COP..i * COP + $co].copy_from_slice(row);
        }
        let mut bp = [0f32; COP];
        bp[..$co].copy_from_slice(&b);
        let mut name = "";
        for (lo, hi) in CLAMPS {
            let mut want = [0f32; OH * OW * $co];
            let mut got = [0f32; OH * OW * $co];
            // NHWC strides (channel, row, column).
            $crate::scalar::f32_conv_minmax::<
                $h, $w, $ci, $co, $co, $k, $k, $s, $s, $pt, $pl, OH, OW,
                1, { $w * $ci }, $ci, 1, $hs, $pv,
                { $h * $w * $ci }, WS, { OH * OW * $co },
            >(&x, &w, &b, &mut want, lo, hi, &Sequential);
            let f = $($f)::+::<
                $h, $w, $ci, $co, COP, $k, $k, $s, $s, $pt, $pl, OH, OW,
                1, { $w * $ci }, $ci, 1, $hs, $pv,
                { $h * $w * $ci }, WT, { OH * OW * $co },
            >;
            f(&x, &wp, &bp, &mut got, lo, hi, &Sequential);
            close(&got, &want, concat!("conv nhwc ", $ci, "->", $co, " s", $s, " pv ", $pv));
            // NCHW strides, one task per output row on three threads.
            $crate::scalar::f32_conv_minmax::<
                $h, $w, $ci, $co, $co, $k, $k, $s, $s, $pt, $pl, OH, OW,
                { $h * $w }, $w, 1, 1, $hs, $pv,
                { $h * $w * $ci }, WS, { OH * OW * $co },
            >(&x, &w, &b, &mut want, lo, hi, &Sequential);
            $($f)::+::<
                $h, $w, $ci, $co, COP, $k, $k, $s, $s, $pt, $pl, OH, OW,
                { $h * $w }, $w, 1, 1, $hs, $pv,
                { $h * $w * $ci }, WT, { OH * OW * $co },
            >(&x, &wp, &bp, &mut got, lo, hi, &Sequential);
            close(&got, &want, concat!("conv nchw ", $ci, "->", $co, " s", $s, " pv ", $pv));
            let mut tasks = [0f32; OH * OW * $co];
            $($f)::+::<
                $h, $w, $ci, $co, COP, $k, $k, $s, $s, $pt, $pl, OH, OW,
                { $h * $w }, $w, 1, OH, $hs, $pv,
                { $h * $w * $ci }, WT, { OH * OW * $co },
            >(&x, &wp, &bp, &mut tasks, lo, hi, &Threads(3));
            same_bits(&tasks, &got, concat!("conv nchw ", $ci, "->", $co, " s", $s, " in tasks"));
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use conv_case;

/// Global average pooling over `hw` pixels of `c` channels.
macro_rules! gavgpool_case {
    ($($f:ident)::+, $hw:literal, $c:literal) => {{
        use $crate::conformance::*;
        let x = data::<{ $hw * $c }>(10);
        let mut want = [0f32; $c];
        $crate::scalar::f32_gavgpool::<$hw, $c, { $hw * $c }>(&x, &mut want);
        let mut got = [0f32; $c];
        let f = $($f)::+::<$hw, $c, { $hw * $c }>;
        f(&x, &mut got);
        close(&got, &want, concat!("gavgpool ", $hw, "x", $c));
        name_of(&f)
    }};
}
pub(crate) use gavgpool_case;

/// A QuantizeLinear kernel against the scalar one, to the bit: 1013 values (a tail shorter
/// than any vector) spanning far beyond the uint8 range, with exact ties of the rounding, signed
/// zeros, infinities and NaN, at two scales and zero points; returns the kernel's name.
macro_rules! quantize_case {
    ($($f:ident)::+) => {{
        use $crate::conformance::*;
        const N: usize = 1013;
        let mut name = "";
        for (scale, q) in [
            (0.25f32, $crate::scalar::Requant { zero: 128, lo: 0, hi: 255 }),
            (0.037f32, $crate::scalar::Requant { zero: 3, lo: 3, hi: 200 }),
        ] {
            let mut x = data::<N>(12);
            for (i, v) in x.iter_mut().enumerate() {
                *v *= 50.0 * scale * 255.0 / 100.0;
                // Every seventh value a tie: an odd number of half steps.
                if i % 7 == 0 {
                    *v = (i as f32 - 500.0 + 0.5) * scale;
                }
            }
            for (i, v) in [0.0, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN].into_iter().enumerate() {
                x[100 + i] = v;
                x[N - 1 - i] = v;
            }
            let mut want = [0u8; N];
            $crate::scalar::f32_quantize::<N>(&x, scale, &mut want, q);
            let mut got = [0u8; N];
            let f = $($f)::+::<N>;
            f(&x, scale, &mut got, q);
            for i in 0..N {
                assert_eq!(got[i], want[i], "quantize [{i}] {} / {scale}", x[i]);
            }
            name = name_of(&f);
        }
        name
    }};
}
pub(crate) use quantize_case;

/// One `#[test]` per GEMM case for a module's GEMM kernel `$g` (part of [`all_cases`]; a
/// module whose target takes its other kernels from another module invokes it alone).
macro_rules! gemm_cases {
    ($desc:expr, $($g:ident)::+) => {
        #[test]
        fn gemm_1x1x1() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 1, 1, 1);
        }
        #[test]
        fn gemm_1x17x1000() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 1, 17, 1000);
        }
        #[test]
        fn gemm_5x3x8() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 5, 3, 8);
        }
        #[test]
        fn gemm_6x8x16() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 6, 8, 16);
        }
        #[test]
        fn gemm_7x8x17() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 7, 8, 17);
        }
        #[test]
        fn gemm_12x32x64() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 12, 32, 64);
        }
        #[test]
        fn gemm_13x17x33() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 13, 17, 33);
        }
        #[test]
        fn gemm_49x24x15() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 49, 24, 15);
        }
        #[test]
        fn gemm_23x9x40() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 23, 9, 40);
        }
        #[test]
        fn gemm_30x5x70() {
            $crate::conformance::gemm_case!($($g)::+, $desc, 30, 5, 70);
        }
    };
}
pub(crate) use gemm_cases;

/// One `#[test]` per depthwise case for a module's depthwise kernel `$d` (part of
/// [`all_cases`]).
macro_rules! dw_cases {
    ($($d:ident)::+) => {
        #[test]
        fn dwconv_7x7x3_k3_s1_p1111() {
            $crate::conformance::dw_case!($($d)::+, 7, 7, 3, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn dwconv_7x5x8_k3_s2_p1111() {
            $crate::conformance::dw_case!($($d)::+, 7, 5, 8, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn dwconv_8x8x13_k3_s2_p0011() {
            $crate::conformance::dw_case!($($d)::+, 8, 8, 13, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn dwconv_9x6x16_k3_s1_p1111() {
            $crate::conformance::dw_case!($($d)::+, 9, 6, 16, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn dwconv_5x9x24_k3_s2_p1012() {
            $crate::conformance::dw_case!($($d)::+, 5, 9, 24, 3, 2, 1, 0, 1, 2);
        }
        #[test]
        fn dwconv_4x4x17_k5_s1_p2222() {
            $crate::conformance::dw_case!($($d)::+, 4, 4, 17, 5, 1, 2, 2, 2, 2);
        }
        // MobileNetV3's 5x5 windows on its last 7x7 maps (hardly an interior pixel; channels
        // in blocks of four vectors and a remainder), a 7x7 window and an even-sized one.
        #[test]
        fn dwconv_7x7x40_k5_s1_p2222() {
            $crate::conformance::dw_case!($($d)::+, 7, 7, 40, 5, 1, 2, 2, 2, 2);
        }
        #[test]
        fn dwconv_9x9x35_k7_s2_p3333() {
            $crate::conformance::dw_case!($($d)::+, 9, 9, 35, 7, 2, 3, 3, 3, 3);
        }
        #[test]
        fn dwconv_8x8x16_k4_s2_p1122() {
            $crate::conformance::dw_case!($($d)::+, 8, 8, 16, 4, 2, 1, 1, 2, 2);
        }
        // Wide rows: interior pixels go several at a time, remainders one at a time.
        #[test]
        fn dwconv_5x19x24_k3_s1_p1111() {
            $crate::conformance::dw_case!($($d)::+, 5, 19, 24, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn dwconv_6x23x16_k3_s2_p1111() {
            $crate::conformance::dw_case!($($d)::+, 6, 23, 16, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn dwconv_3x30x8_k3_s2_p0011() {
            $crate::conformance::dw_case!($($d)::+, 3, 30, 8, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn dwconv_4x21x36_k3_s1_p1111() {
            $crate::conformance::dw_case!($($d)::+, 4, 21, 36, 3, 1, 1, 1, 1, 1);
        }
        // Padding wider than the window: border outputs see no input at all.
        #[test]
        fn dwconv_4x5x8_k1_s1_p1111() {
            $crate::conformance::dw_case!($($d)::+, 4, 5, 8, 1, 1, 1, 1, 1, 1);
        }
    };
}
pub(crate) use dw_cases;

/// One `#[test]` per case for the kernels a SIMD module provides (a failure names its case),
/// and one that checks the kernels the cases ran against the target's list: `gemm`, `dwconv`,
/// `conv` (and `gavgpool` where the module has one) are the module's function paths. Invoked
/// inside the module's `#[cfg(test)] mod tests`.
macro_rules! all_cases {
    ($desc:expr, gemm: $($g:ident)::+, dwconv: $($d:ident)::+, conv: $($c:ident)::+ $(, gavgpool: $($p:ident)::+)? $(, qgemm: $($qg:ident)::+)? $(, qdwconv: $($qd:ident)::+)? $(, qconv: $($qc:ident)::+)? $(, quantize: $($qq:ident)::+)?) => {
        $crate::conformance::gemm_cases!($desc, $($g)::+);
        $($crate::conformance::qgemm_cases!($desc, $($qg)::+);)?
        $($crate::conformance::qdw_cases!($desc, $($qd)::+);)?
        $($crate::conformance::qconv_cases!($desc, $($qc)::+);)?
        $crate::conformance::dw_cases!($($d)::+);
        $(
            #[test]
            fn quantize_1013() {
                $crate::conformance::quantize_case!($($qq)::+);
            }
        )?
        #[test]
        fn conv_9x9_3to5_k3_s2_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 9, 9, 3, 5, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn conv_8x7_3to8_k3_s2_p0011() {
            $crate::conformance::conv_case!($($c)::+, $desc, 8, 7, 3, 8, 3, 2, 0, 0, 1, 1);
        }
        #[test]
        fn conv_7x7_3to32_k3_s2_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 7, 7, 3, 32, 3, 2, 1, 1, 1, 1);
        }
        #[test]
        fn conv_6x5_4to43_k3_s1_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 6, 5, 4, 43, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn conv_5x5_2to16_k1_s1_p0000() {
            $crate::conformance::conv_case!($($c)::+, $desc, 5, 5, 2, 16, 1, 1, 0, 0, 0, 0);
        }
        #[test]
        fn conv_24x21_3to8_k3_s1_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 24, 21, 3, 8, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn conv_40x37_3to12_k3_s2_p1012() {
            $crate::conformance::conv_case!($($c)::+, $desc, 40, 37, 3, 12, 3, 2, 1, 0, 1, 2);
        }
        // Wide rows with output channels in pairs of vectors (and one pair half used).
        #[test]
        fn conv_6x20_3to32_k3_s1_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 6, 20, 3, 32, 3, 1, 1, 1, 1, 1);
        }
        #[test]
        fn conv_5x27_2to24_k3_s2_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 5, 27, 2, 24, 3, 2, 1, 1, 1, 1);
        }
        // A 7x7 window (49 taps) and padding wider than a 1x1 window.
        #[test]
        fn conv_12x11_2to5_k7_s1_p3333() {
            $crate::conformance::conv_case!($($c)::+, $desc, 12, 11, 2, 5, 7, 1, 3, 3, 3, 3);
        }
        #[test]
        fn conv_4x5_3to9_k1_s1_p1111() {
            $crate::conformance::conv_case!($($c)::+, $desc, 4, 5, 3, 9, 1, 1, 1, 1, 1, 1);
        }
        $(
            #[test]
            fn gavgpool_1x3() {
                $crate::conformance::gavgpool_case!($($p)::+, 1, 3);
            }
            #[test]
            fn gavgpool_49x8() {
                $crate::conformance::gavgpool_case!($($p)::+, 49, 8);
            }
            #[test]
            fn gavgpool_16x17() {
                $crate::conformance::gavgpool_case!($($p)::+, 16, 17);
            }
            #[test]
            fn gavgpool_4x1024() {
                $crate::conformance::gavgpool_case!($($p)::+, 4, 1024);
            }
        )?
        /// The cases ran exactly the kernels the target lists from this module.
        #[test]
        fn the_kernels_tested_are_the_kernels_listed() {
            use mnetc_targets::Kernel;
            let mut tested = $crate::conformance::Vec::new();
            tested.push((Kernel::Gemm, $crate::conformance::gemm_case!($($g)::+, $desc, 1, 1, 1)));
            tested.push((Kernel::DwConv, $crate::conformance::dw_case!($($d)::+, 7, 7, 3, 3, 1, 1, 1, 1, 1)));
            tested.push((Kernel::Conv, $crate::conformance::conv_case!($($c)::+, $desc, 9, 9, 3, 5, 3, 2, 1, 1, 1, 1)));
            $(
                tested.push((Kernel::GAvgPool, $crate::conformance::gavgpool_case!($($p)::+, 1, 3)));
            )?
            $(
                tested.push((Kernel::QGemm, $crate::conformance::qgemm_case!($($qg)::+, $desc, 1, 1, 1)));
            )?
            $(
                tested.push((Kernel::QDwConv, $crate::conformance::qdw_case!($($qd)::+, $desc, 7, 7, 3, 3, 1, 1, 1, 1, 1)));
            )?
            $(
                tested.push((Kernel::QConv, $crate::conformance::qconv_case!($($qc)::+, $desc, 9, 9, 3, 5, 3, 2, 1, 1, 1, 1)));
            )?
            $(
                tested.push((Kernel::Quantize, $crate::conformance::quantize_case!($($qq)::+)));
            )?
            $crate::conformance::check_listed(&$desc, &tested);
        }
    };
}
pub(crate) use all_cases;

#[test]
fn panels_are_zero_padded() {
    let w: Vec<f32> = (0..3 * 17).map(|i| i as f32 + 1.0).collect();
    let mut out = std::vec![f32::NAN; 32 * 3];
    pack_gemm_panels(16, 3, 17, &w, &mut out);
    assert_eq!(out[0..16], w[0..16]);
    assert_eq!(out[16], w[17]); // panel 0, k = 1
    assert_eq!(out[48], w[16]); // panel 1, k = 0, column 16
    assert!(out[49..64].iter().all(|&v| v == 0.0));
}

#[test]
fn the_generic_target_lists_the_scalar_kernels() {
    use crate::scalar::*;
    let names = [
        (
            Kernel::Conv,
            name_of(
                &f32_conv_minmax::<
                    1,
                    1,
                    1,
                    1,
                    1,
                    1,
                    1,
                    1,
                    1,
                    0,
                    0,
                    1,
                    1,
                    1,
                    1,
                    1,
                    1,
                    false,
                    false,
                    1,
                    1,
                    1,
                >,
            ),
        ),
        (
            Kernel::DwConv,
            name_of(&f32_dwconv_nhwc_minmax::<1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, false, 1, 1, 1>),
        ),
        (
            Kernel::Gemm,
            name_of(&f32_gemm_minmax::<1, 1, 1, 1, 1, 1, 1, false, 1, 1, 1>),
        ),
        (Kernel::GAvgPool, name_of(&f32_gavgpool::<1, 1, 1>)),
        (
            Kernel::Pool,
            name_of(&f32_pool_nhwc::<1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true, false, 1, 1>),
        ),
        (Kernel::Softmax, name_of(&f32_softmax::<1, 1, 1, 1>)),
        (Kernel::Clamp, name_of(&f32_clamp::<1>)),
        (Kernel::Mean, name_of(&f32_mean_rows::<1, 1, 1>)),
        (Kernel::Fill, name_of(&f32_fill::<1>)),
        (Kernel::Binary, name_of(&f32_binary::<1, 1, 1, 1>)),
        (Kernel::Copy, name_of(&f32_copy_strided::<1, 1, 1>)),
        (
            Kernel::QGemm,
            name_of(&u8_gemm::<1, 1, 1, 1, 1, 1, 1, 1, 1, 1>),
        ),
        (
            Kernel::QDwConv,
            name_of(&u8_dwconv::<1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1>),
        ),
        (
            Kernel::QConv,
            name_of(&u8_conv::<1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1>),
        ),
        (Kernel::QGAvgPool, name_of(&u8_gavgpool::<1, 1, 1>)),
        (Kernel::QAdd, name_of(&u8_add::<1>)),
        (Kernel::Quantize, name_of(&f32_quantize::<1>)),
        (Kernel::Dequantize, name_of(&u8_dequantize::<1>)),
        (Kernel::HardSigmoid, name_of(&f32_hard_sigmoid::<1>)),
        (Kernel::HardSwish, name_of(&f32_hard_swish::<1>)),
        (Kernel::ScaleRows, name_of(&f32_scale_rows::<1, 1, 1>)),
    ];
    assert_eq!(names.len(), Kernel::ALL.len());
    for (kind, name) in names {
        let listed = String::from("mnetc_runtime::") + mnetc_targets::GENERIC.kernel(kind);
        assert_eq!(listed, name, "{kind:?}");
    }
}

/// The runtime's requantization is the compiler's definition,
/// `clamp(round_half_even(acc as f32 * scale) + zero, lo, hi)`, written here with std's
/// rounding: every sum of a wide range, with scales from tiny to large, ties included.
#[test]
fn requantization_rounds_half_to_even_like_std() {
    use crate::scalar::{Requant, requantize};
    let mut s = 12345u32;
    let mut next = || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        s
    };
    for i in 0..200_000 {
        let acc = (next() as i32) >> (next() % 31);
        let scale = f32::from_bits(0x3000_0000 + (next() % 0x0e00_0000)); // 4.7e-10 .. 1.4
        let q = Requant {
            zero: (next() % 256) as i32,
            lo: (next() % 64) as i32,
            hi: 192 + (next() % 64) as i32,
        };
        let scale = if i % 7 == 0 { 0.5 } else { scale }; // exact halves: ties
        let want = ((acc as f32 * scale).round_ties_even() as i64 + q.zero as i64)
            .clamp(q.lo as i64, q.hi as i64) as u8;
        assert_eq!(requantize(acc, scale, q), want, "{acc} * {scale} {q:?}");
    }
}
