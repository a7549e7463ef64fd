//! Fixed-size views into the weights blob and the scratch arena. The offsets and lengths are
//! const generics checked at compile time, so the views cost nothing and cannot fail at run time.

/// The weights file, embedded with `include_bytes!` and aligned to 64 bytes so that every
/// tensor (each starts at a multiple of 64) can be viewed as `[f32; LEN]` in place.
#[repr(C, align(64))]
pub struct Weights<const N: usize>(pub [u8; N]);

#[cfg(target_endian = "big")]
compile_error!("mnetc weights files are little-endian; big-endian targets are not supported");

/// The element types of weights and activations: `f32`, and the integers of quantized models.
/// Sealed: each is plain old data (every bit pattern valid) and at most 4-byte aligned, so a
/// view at a multiple of 4 bytes of the arena or of 64 bytes of the weights is aligned.
pub trait Element: Copy + sealed::Sealed + 'static {}

mod sealed {
    pub trait Sealed {}
}

macro_rules! elements {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {}
    )*};
}
elements!(f32, u8, i8, i16, i32);

/// Bytes of `LEN` elements of `T` (for the compile-time bounds checks).
const fn bytes<T>(len: usize) -> usize {
    len * core::mem::size_of::<T>()
}

/// The `LEN` elements of `T` at byte offset `OFF` of the weights.
#[inline(always)]
pub fn weights<T: Element, const OFF: usize, const LEN: usize, const N: usize>(
    w: &Weights<N>,
) -> &[T; LEN] {
    const {
        assert!(
            OFF.is_multiple_of(64) && OFF + bytes::<T>(LEN) <= N,
            "weight view out of bounds or misaligned"
        )
    };
    // SAFETY: the bytes OFF..OFF + LEN * size_of::<T>() lie inside the blob (checked above), the
    // blob is 64-byte aligned and OFF a multiple of 64, so the pointer is aligned for T (at
    // most 4-byte aligned, `Element`); every bit pattern is a valid T and the target is
    // little-endian like the file; the data is borrowed for as long as the result.
    unsafe { &*(w.0.as_ptr().add(OFF) as *const [T; LEN]) }
}

/// `[T; LEN]` at float offset `OFF` (4-byte units) of the arena, for writing.
#[inline(always)]
pub fn arena_out<T: Element, const OFF: usize, const LEN: usize, const N: usize>(
    arena: &mut [f32; N],
) -> &mut [T; LEN] {
    const {
        assert!(
            4 * OFF + bytes::<T>(LEN) <= 4 * N,
            "arena view out of bounds"
        )
    };
    // SAFETY: in bounds (checked above) and 4-byte aligned, enough for any `Element`; every
    // bit pattern of the arena is a valid T; the result borrows `arena` mutably and
    // exclusively.
    unsafe { &mut *(arena.as_mut_ptr().add(OFF) as *mut [T; LEN]) }
}

/// An input view (`X_OFF`, `X_LEN` elements of `X`) and a disjoint output view (`Y_OFF`,
/// `Y_LEN` elements of `Y`) of the arena; offsets in floats.
#[inline(always)]
pub fn arena_in_out<
    X: Element,
    Y: Element,
    const X_OFF: usize,
    const X_LEN: usize,
    const Y_OFF: usize,
    const Y_LEN: usize,
    const N: usize,
>(
    arena: &mut [f32; N],
) -> (&[X; X_LEN], &mut [Y; Y_LEN]) {
    const {
        let (x_end, y_end) = (4 * X_OFF + bytes::<X>(X_LEN), 4 * Y_OFF + bytes::<Y>(Y_LEN));
        assert!(x_end <= 4 * N && y_end <= 4 * N, "arena view out of bounds");
        assert!(
            x_end <= 4 * Y_OFF || y_end <= 4 * X_OFF,
            "input and output views overlap"
        );
    };
    let p = arena.as_mut_ptr();
    // SAFETY: both ranges are in bounds, 4-byte aligned and disjoint (checked above), so the
    // shared and the mutable borrow never alias; every bit pattern is valid for both types;
    // both live no longer than the exclusive borrow of `arena`.
    unsafe {
        (
            &*(p.add(X_OFF) as *const [X; X_LEN]),
            &mut *(p.add(Y_OFF) as *mut [Y; Y_LEN]),
        )
    }
}

/// Two input views (which may overlap each other) and an output view disjoint from both.
#[inline(always)]
#[allow(clippy::type_complexity)]
pub fn arena_in2_out<
    A: Element,
    B: Element,
    Y: Element,
    const A_OFF: usize,
    const A_LEN: usize,
    const B_OFF: usize,
    const B_LEN: usize,
    const Y_OFF: usize,
    const Y_LEN: usize,
    const N: usize,
>(
    arena: &mut [f32; N],
) -> (&[A; A_LEN], &[B; B_LEN], &mut [Y; Y_LEN]) {
    const {
        let a_end = 4 * A_OFF + bytes::<A>(A_LEN);
        let b_end = 4 * B_OFF + bytes::<B>(B_LEN);
        let y_end = 4 * Y_OFF + bytes::<Y>(Y_LEN);
        assert!(
            a_end <= 4 * N && b_end <= 4 * N && y_end <= 4 * N,
            "arena view out of bounds"
        );
        assert!(
            a_end <= 4 * Y_OFF || y_end <= 4 * A_OFF,
            "input and output views overlap"
        );
        assert!(
            b_end <= 4 * Y_OFF || y_end <= 4 * B_OFF,
            "input and output views overlap"
        );
    };
    let p = arena.as_mut_ptr();
    // SAFETY: in bounds and 4-byte aligned; the output is disjoint from both inputs (checked
    // above); the two inputs are shared borrows, which may alias each other; every bit
    // pattern is valid for each type.
    unsafe {
        (
            &*(p.add(A_OFF) as *const [A; A_LEN]),
            &*(p.add(B_OFF) as *const [B; B_LEN]),
            &mut *(p.add(Y_OFF) as *mut [Y; Y_LEN]),
        )
    }
}

/// The working memory of a generated network: the activation arena (`A` floats, its size
/// computed by mnetc's memory planner) and a staging area for the input (`I` floats), used by the
/// entry point that converts the input's layout. Place it where it fits: a `static`, a `Box`
/// ([`boxed_zeroed`]), or the stack when small.
#[repr(C, align(64))]
pub struct Scratch<const A: usize, const I: usize> {
    pub arena: [f32; A],
    pub stage: [f32; I],
}

impl<const A: usize, const I: usize> Scratch<A, I> {
    pub const fn new() -> Self {
        Scratch {
            arena: [0.0; A],
            stage: [0.0; I],
        }
    }
}

impl<const A: usize, const I: usize> Default for Scratch<A, I> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: a Scratch is two arrays of f32, for which all-zero bytes are 0.0.
unsafe impl<const A: usize, const I: usize> Zeroable for Scratch<A, I> {}

/// Types for which all-zero bytes are a valid value.
///
/// # Safety
/// Implementors must be valid when every byte is zero.
pub unsafe trait Zeroable: Sized {}

// SAFETY: a byte array of any content is a valid Weights.
unsafe impl<const N: usize> Zeroable for Weights<N> {}

/// Weights read at run time, on the heap (`Net::from_bytes` of a module generated with
/// `--runtime-weights`).
#[cfg(feature = "alloc")]
pub type BoxedWeights<const N: usize> = alloc::boxed::Box<Weights<N>>;

/// Why a run-time weights file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightsError {
    /// Shorter than its 64-byte header.
    TooShort { len: usize },
    /// The first bytes are not `MNETCWTS`.
    NotAWeightsFile,
    /// A format version this runtime does not read.
    Version { found: u32 },
    /// Written for another network or target: the layout hashes differ.
    OtherNetwork,
    /// The blob's length differs from the network's.
    Length { expected: usize, found: usize },
}

impl core::fmt::Display for WeightsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WeightsError::TooShort { len } => {
                write!(f, "{len} bytes are too short for an mnetc weights file")
            }
            WeightsError::NotAWeightsFile => f.write_str("not an mnetc weights file"),
            WeightsError::Version { found } => {
                write!(
                    f,
                    "weights file format version {found}; this runtime reads version 1"
                )
            }
            WeightsError::OtherNetwork => f.write_str(
                "the weights were written for another network or target (layout hash differs)",
            ),
            WeightsError::Length { expected, found } => {
                write!(
                    f,
                    "the weights hold {found} bytes, the network needs {expected}"
                )
            }
        }
    }
}

/// Checks a run-time weights file against a network's layout hash and copies its blob into
/// aligned memory. The format: `MNETCWTS`, version 1 (u32 LE), 4 reserved bytes, the layout
/// hash (32 bytes), the blob's length (u64 LE), zeros up to byte 64, then the blob. Never
/// panics on bad input.
#[cfg(feature = "alloc")]
pub fn weights_from_bytes<const N: usize>(
    bytes: &[u8],
    layout: &[u8; 32],
) -> Result<BoxedWeights<N>, WeightsError> {
    const HEADER: usize = 64;
    if bytes.len() < HEADER {
        return Err(WeightsError::TooShort { len: bytes.len() });
    }
    if bytes[..8] != *b"MNETCWTS" {
        return Err(WeightsError::NotAWeightsFile);
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != 1 {
        return Err(WeightsError::Version { found: version });
    }
    if bytes[16..48] != layout[..] {
        return Err(WeightsError::OtherNetwork);
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[48..56]);
    let declared = u64::from_le_bytes(len);
    let blob = &bytes[HEADER..];
    if declared != N as u64 || blob.len() != N {
        return Err(WeightsError::Length {
            expected: N,
            found: blob.len(),
        });
    }
    let mut w = boxed_zeroed::<Weights<N>>();
    w.0.copy_from_slice(blob);
    Ok(w)
}

/// A zeroed `T` on the heap, built in place: a `Scratch` of several megabytes never passes
/// through the stack. Aborts as `Box::new` does if memory is short.
#[cfg(feature = "alloc")]
pub fn boxed_zeroed<T: Zeroable>() -> alloc::boxed::Box<T> {
    try_boxed_zeroed()
        .unwrap_or_else(|| alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<T>()))
}

/// [`boxed_zeroed`], or `None` if memory is short (for callers that report it, as the C ABI's
/// `NAME_new` does).
#[cfg(feature = "alloc")]
pub fn try_boxed_zeroed<T: Zeroable>() -> Option<alloc::boxed::Box<T>> {
    let layout = core::alloc::Layout::new::<T>();
    if layout.size() == 0 {
        // SAFETY: a zero-sized T is valid at any aligned dangling pointer, and Box does not
        // deallocate zero-sized values.
        return Some(unsafe {
            alloc::boxed::Box::from_raw(core::ptr::NonNull::<T>::dangling().as_ptr())
        });
    }
    // SAFETY: the layout has a non-zero size; a null result is handled; zeroed memory is a valid
    // T (the Zeroable contract) and was allocated with T's layout, as Box requires.
    unsafe {
        let p = alloc::alloc::alloc_zeroed(layout) as *mut T;
        (!p.is_null()).then(|| alloc::boxed::Box::from_raw(p))
    }
}
