//! Emission: the lowered, planned program as a Rust module (quote token streams, formatted by
//! prettyplease) and the weights blob (little-endian f32, every tensor 64-byte aligned).
//! Nothing here depends on iteration order of hash maps or on the clock, so the output is
//! byte-identical for the same model and options.

use super::Target;
use super::lower::{Program, Step, Storage, TensorId, TensorInfo, dense_strides};
use super::plan::Plan;
use crate::ir::InputLayout;
use crate::program::{Arg, Const};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// Byte offset of every packed weight in the blob, and the blob.
pub fn weights_blob(program: &Program) -> (Vec<usize>, Vec<u8>) {
    let mut offsets = Vec::with_capacity(program.weights.len());
    let mut blob = Vec::new();
    for w in &program.weights {
        offsets.push(blob.len());
        blob.extend(w.bytes());
        blob.resize(blob.len().div_ceil(64) * 64, 0);
    }
    (offsets, blob)
}

/// The Rust element type of a tensor.
fn elem(e: crate::program::Elem) -> TokenStream {
    e.rust().parse().expect("a type name")
}

/// An i32 expression (a negative literal is two tokens).
fn int(v: i32) -> TokenStream {
    v.to_string().parse().expect("an integer")
}

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

fn float(v: f32) -> TokenStream {
    if v == f32::INFINITY {
        quote!(f32::INFINITY)
    } else if v == f32::NEG_INFINITY {
        quote!(f32::NEG_INFINITY)
    } else {
        let l = Literal::f32_suffixed(v);
        quote!(#l)
    }
}

/// A `[f32; 3]` literal.
fn floats(v: &[f32; 3]) -> TokenStream {
    let v = v.iter().map(|&x| float(x));
    quote!([#(#v),*])
}

fn array(v: &[usize]) -> TokenStream {
    let items = v.iter().map(|&n| lit(n));
    quote!([#(#items),*])
}

pub struct Module<'a> {
    pub program: &'a Program,
    pub plan: &'a Plan,
    pub weight_offsets: &'a [usize],
    pub weights_len: usize,
    /// `Some(file)`: the weights are embedded with `include_bytes!(file)`; `None`: the module
    /// has a `Net` that takes them at run time (`Net::from_bytes`), checked against `layout`.
    pub weights_file: Option<&'a str>,
    /// The weights layout hash (see [`super::layout_hash`]).
    pub layout: [u8; 32],
    pub runtime: &'a str,
    pub input_layout: InputLayout,
    pub target: Target,
    /// Generate `forward_rgb8` with this preprocessing.
    pub preprocess: Option<&'a crate::preprocess::Preprocess>,
    /// The preprocessing folded into the stem conv, when it could be (`super::stem`).
    pub stem: Option<&'a super::stem::Stem>,
}

impl Module<'_> {
    fn rt(&self) -> TokenStream {
        self.runtime
            .parse()
            .expect("the runtime path is a valid Rust path")
    }

    /// An expression for a read-only tensor that is not in the arena.
    fn read(&self, t: TensorId) -> Option<TokenStream> {
        let rt = self.rt();
        let info = &self.program.tensors[t];
        match info.storage {
            Storage::Input => Some(quote!(input)),
            Storage::Weight(w) => {
                let (off, len) = (lit(self.weight_offsets[w]), lit(info.numel()));
                let t = elem(info.elem);
                Some(quote!(#rt::weights::<#t, #off, #len, WEIGHTS_LEN>(weights)))
            }
            Storage::Arena(_) => None,
        }
    }

    fn arena_range(&self, info: &TensorInfo) -> (Literal, Literal) {
        let Storage::Arena(b) = info.storage else {
            unreachable!("arena tensor")
        };
        (lit(self.plan.offsets[b]), lit(info.numel()))
    }

    /// `let` bindings for the step's activation inputs (`a0`, `a1`) and output (`y`).
    fn bind(&self, inputs: &[TensorId], output: TensorId) -> TokenStream {
        let rt = self.rt();
        let mut arena_inputs = Vec::new();
        let mut other = Vec::new();
        for (i, &t) in inputs.iter().enumerate() {
            let name = format_ident!("a{}", i);
            match self.read(t) {
                Some(expr) => other.push(quote!(let #name = #expr;)),
                None => {
                    let info = &self.program.tensors[t];
                    arena_inputs.push((name, elem(info.elem), self.arena_range(info)))
                }
            }
        }
        let out = &self.program.tensors[output];
        let ((yo, yl), yt) = (self.arena_range(out), elem(out.elem));
        let arena = match arena_inputs.as_slice() {
            [] => quote!(let y = #rt::arena_out::<#yt, #yo, #yl, ARENA_LEN>(arena);),
            [(a, at, (o, l))] => {
                quote!(let (#a, y) = #rt::arena_in_out::<#at, #yt, #o, #l, #yo, #yl, ARENA_LEN>(arena);)
            }
            [(a, at, (ao, al)), (b, bt, (bo, bl))] => {
                quote!(let (#a, #b, y) = #rt::arena_in2_out::<#at, #bt, #yt, #ao, #al, #bo, #bl, #yo, #yl, ARENA_LEN>(arena);)
            }
            _ => unreachable!("kernels read at most two activations"),
        };
        quote!(#arena #(#other)*)
    }

    /// A `scalar::Requant { zero, lo, hi }` expression.
    fn requant(&self, [zero, lo, hi]: [i32; 3]) -> TokenStream {
        let rt = self.rt();
        let [zero, lo, hi] = [zero, lo, hi].map(int);
        quote!(#rt::scalar::Requant { zero: #zero, lo: #lo, hi: #hi })
    }

    /// The runtime function the target uses for a kind of kernel, as a path.
    fn kernel(&self, kind: mnetc_targets::Kernel) -> TokenStream {
        let rt = self.rt();
        let path: TokenStream = self
            .target
            .desc()
            .kernel(kind)
            .parse()
            .expect("kernel paths in mnetc-targets are valid Rust paths");
        quote!(#rt::#path)
    }

    /// One kernel call: bindings of its tensors, then the target's function for the call's
    /// kind with the call's const generic and value arguments.
    fn step(&self, step: &Step) -> TokenStream {
        let rt = self.rt();
        let f = self.kernel(step.kernel.kind);
        let bind = self.bind(&step.inputs, step.output);
        let consts = step.kernel.consts.iter().map(|c| match c {
            Const::Usize(n) => {
                let n = lit(*n);
                quote!(#n)
            }
            Const::Bool(b) => quote!(#b),
        });
        let args = step.kernel.args.iter().map(|a| match a {
            Arg::Input(i) => {
                let name = format_ident!("a{}", i);
                quote!(#name)
            }
            Arg::Output => quote!(y),
            Arg::Min => float(step.clamp.min),
            Arg::Max => float(step.clamp.max),
            Arg::F32(v) => float(*v),
            Arg::I32(v) => int(*v),
            Arg::Requant(r) => self.requant(*r),
            Arg::Usize(n) => {
                let n = lit(*n);
                quote!(#n)
            }
            Arg::Usizes(v) => array(v),
            Arg::Runtime(path) => {
                let path: TokenStream = path.parse().expect("runtime paths are valid Rust paths");
                quote!(#rt::#path)
            }
            Arg::Pool => quote!(pool),
        });
        quote!({ #bind #f::<#(#consts),*>(#(#args),*); })
    }

    /// Copies the output tensor, in any layout and storage, to the caller's array in logical order.
    fn copy_out(&self) -> TokenStream {
        let rt = self.rt();
        let info = &self.program.tensors[self.program.output];
        let strides = info.strides();
        let (r, xn) = (lit(info.shape.len()), lit(info.numel()));
        let (sx, sy, sh) = (
            array(&strides),
            array(&dense_strides(&info.shape)),
            array(&info.shape),
        );
        let source = match self.read(self.program.output) {
            Some(expr) => expr,
            None => {
                let (o, l) = self.arena_range(info);
                quote!(#rt::arena_out::<f32, #o, #l, ARENA_LEN>(arena))
            }
        };
        let copy = self.kernel(mnetc_targets::Kernel::Copy);
        quote!(#copy::<#r, #xn, OUTPUT_LEN>(#source, #sx, output, 0, #sy, #sh);)
    }

    pub fn tokens(&self) -> TokenStream {
        let rt = self.rt();
        let input = &self.program.tensors[self.program.input];
        let output = &self.program.tensors[self.program.output];
        let (in_shape, in_len, in_rank) = (
            array(&input.shape),
            lit(input.numel()),
            lit(input.shape.len()),
        );
        let (out_shape, out_len, out_rank) = (
            array(&output.shape),
            lit(output.numel()),
            lit(output.shape.len()),
        );
        let arena_len = lit(self.plan.arena_len);
        let weights_len = lit(self.weights_len);
        let steps: Vec<TokenStream> = self
            .program
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let step = self.step(s);
                let i = lit(i);
                quote!(#step hook(#i);)
            })
            .collect();
        let step_count = lit(self.program.steps.len());
        let step_info = self.program.steps.iter().map(|s| {
            let (name, kernel, macs) = (
                &s.node,
                s.kernel.kind.label(),
                Literal::u64_unsuffixed(s.macs),
            );
            quote!((#name, #kernel, #macs))
        });
        let copy_out = self.copy_out();
        // The other layout: NHWC for an NCHW model and the reverse.
        let (other, other_name, own_name) = match self.input_layout {
            InputLayout::Nchw => ([0usize, 2, 3, 1], quote!(forward_nhwc), "NCHW"),
            InputLayout::Nhwc => ([0usize, 3, 1, 2], quote!(forward_nchw), "NHWC"),
        };
        let other_dims: Vec<usize> = other.iter().map(|&a| input.shape[a]).collect();
        let other_strides = dense_strides(&other_dims);
        let mut read = vec![0; 4];
        for (i, &axis) in other.iter().enumerate() {
            read[axis] = other_strides[i];
        }
        let (read, stage_strides) = (array(&read), array(&dense_strides(&input.shape)));
        let other_layout = if own_name == "NCHW" { "NHWC" } else { "NCHW" };
        let forward_doc = format!(
            " Runs the network on `input` ({own_name}, shape `INPUT_SHAPE`) and writes `OUTPUT_SHAPE` values to `output`."
        );
        let other_doc = format!(
            " {} for an input in {other_layout} layout (shape `{other_dims:?}`), as images arrive.",
            self.entry_link("forward", true)
        );
        let uses_arena = self
            .program
            .steps
            .iter()
            .any(|s| matches!(self.program.tensors[s.output].storage, Storage::Arena(_)));
        let arena_param = if uses_arena {
            quote!(arena)
        } else {
            quote!(_arena)
        };
        let pool_param = if self
            .program
            .steps
            .iter()
            .any(|s| s.kernel.args.contains(&Arg::Pool))
        {
            quote!(pool)
        } else {
            quote!(_pool)
        };
        // Code for a target with required features refuses to build without them.
        let desc = self.target.desc();
        let guard = if desc.features.is_empty() && desc.arch.is_none() && desc.cfgs.is_empty() {
            quote!()
        } else {
            let arch = desc.arch.map(|a| quote!(target_arch = #a));
            let features = desc.features.iter().map(|f| quote!(target_feature = #f));
            let conditions = arch.into_iter().chain(features);
            let arch = desc.arch.unwrap_or("any architecture");
            let needs = match (desc.features, desc.cfgs) {
                ([], []) => String::new(),
                (features, []) => format!(
                    " with {} enabled (RUSTFLAGS=\"{}\", or -C target-cpu=native on such a CPU)",
                    features
                        .iter()
                        .map(|f| f.to_uppercase())
                        .collect::<Vec<_>>()
                        .join(" and "),
                    self.target.rustflags()
                ),
                (_, _) => format!(
                    ", stating that the CPU has the extension with RUSTFLAGS=\"{}\"",
                    self.target.rustflags()
                ),
            };
            let msg = format!(
                "this module was generated by mnetc for --target {}: build it for {arch}{needs}, or regenerate it with --target generic",
                desc.name,
            );
            // A `--cfg` is read through the runtime's constant of the same name (upper case):
            // the runtime declares the cfg, so the user's crate never names an unknown cfg.
            let declared = desc.cfgs.iter().map(|c| {
                let c = format_ident!("{}", c.to_uppercase());
                quote!(
                    const _: () = assert!(#rt::#c, #msg);
                )
            });
            quote! {
                #[cfg(not(all(#(#conditions),*)))]
                compile_error!(#msg);
                #(#declared)*
            }
        };
        let weights_param = if self.program.weights.is_empty() {
            quote!(_weights)
        } else {
            quote!(weights)
        };
        let entry_points =
            self.entry_points(other_name, &other_doc, &forward_doc, read, stage_strides);
        let scratch = self.scratch();
        let frame_items = self.frame_items();
        let run_rgb8 = self.run_rgb8(&steps, &copy_out, &weights_param);
        let run_q = self.run_q(&steps, &weights_param);
        let runtime_version = super::runtime_version();
        quote! {
            // The runtime version this module's kernel calls are written for: another stops the
            // build here, with a message naming both.
            #rt::generated_for!(#runtime_version);
            #guard

            /// Shape of the input, in the model's own layout.
            #[allow(dead_code)]
            pub const INPUT_SHAPE: [usize; #in_rank] = #in_shape;
            #[allow(dead_code)]
            pub const INPUT_LEN: usize = #in_len;
            #[allow(dead_code)]
            pub const OUTPUT_SHAPE: [usize; #out_rank] = #out_shape;
            #[allow(dead_code)]
            pub const OUTPUT_LEN: usize = #out_len;
            /// Floats of activation memory, as planned by mnetc.
            #[allow(dead_code)]
            pub const ARENA_LEN: usize = #arena_len;
            const WEIGHTS_LEN: usize = #weights_len;

            #scratch
            #frame_items

            #entry_points

            /// The kernel calls of `forward`: IR node, kernel and multiply-adds.
            #[allow(dead_code)]
            pub const STEPS: [(&str, &str, u64); #step_count] = [#(#step_info),*];
            #[inline(always)]
            fn run(#weights_param: &#rt::Weights<WEIGHTS_LEN>, input: &[f32; INPUT_LEN], output: &mut [f32; OUTPUT_LEN], #arena_param: &mut [f32; ARENA_LEN], #pool_param: &dyn #rt::pool::Parallel, mut hook: impl FnMut(usize)) {
                #(#steps)*
                #copy_out
            }
            #run_rgb8
            #run_q
        }
    }

    /// The `Scratch` type: its stage buffer holds the input, or the folded stem's padded
    /// photo when that is longer (`STAGE_LEN`).
    fn scratch(&self) -> TokenStream {
        let rt = self.rt();
        let Some(stem) = self.stem else {
            return quote! {
                /// Working memory for `forward`; about `4 * (ARENA_LEN + INPUT_LEN)` bytes.
                #[allow(dead_code)]
                pub type Scratch = #rt::Scratch<ARENA_LEN, INPUT_LEN>;
            };
        };
        let (padded, stage) = (lit(stem.floats()), lit(stem.floats().max(self.input_len())));
        quote! {
            /// Floats of the padded photo that `forward_rgb8` gives the folded stem conv.
            const PADDED_LEN: usize = #padded;
            /// Floats of the stage buffer: the input in the other layout, or the padded photo.
            const STAGE_LEN: usize = #stage;
            /// Working memory for `forward`; about `4 * (ARENA_LEN + STAGE_LEN)` bytes.
            #[allow(dead_code)]
            pub type Scratch = #rt::Scratch<ARENA_LEN, STAGE_LEN>;
        }
    }

    /// The first step, when it quantizes the graph input and nothing else reads the input (a
    /// quantized model), with its scale and `[zero, lo, hi]`: `forward_rgb8` then writes the
    /// photo's bytes straight into its output through a table (`scalar::u8_pixels_quantize`)
    /// and `forward_q` copies its uint8 input there.
    fn quantized_input(&self) -> Option<(&Step, f32, [i32; 3])> {
        let first = self
            .program
            .first_step_alone_on_input(mnetc_targets::Kernel::Quantize)?;
        match first.kernel.args.as_slice() {
            [_, Arg::F32(s), _, Arg::Requant(r)] => Some((first, *s, *r)),
            other => unreachable!("a Quantize call's arguments: {other:?}"),
        }
    }

    /// The last step, when it dequantizes into the output in its logical, dense order after a
    /// first step that quantizes the input (a quantized model): `forward_q` then takes the
    /// first step's uint8 output and hands out the last step's uint8 input.
    fn dequantized_output(&self) -> Option<&Step> {
        self.quantized_input()?;
        let steps = &self.program.steps;
        let last = steps.last()?;
        let out = &self.program.tensors[self.program.output];
        let ok = steps.len() > 2
            && last.kernel.kind == mnetc_targets::Kernel::Dequantize
            && last.output == self.program.output
            && out.strides() == dense_strides(&out.shape)
            && matches!(
                self.program.tensors[last.inputs[0]].storage,
                Storage::Arena(_)
            );
        ok.then_some(last)
    }

    /// `forward_q`'s quantization constants and its `run_q`: the input's uint8 values copied
    /// into the first step's output, the steps between, the last step's uint8 input copied out.
    fn run_q(&self, steps: &[TokenStream], weights_param: &TokenStream) -> TokenStream {
        let (Some((first, scale, [zero, ..])), Some(last)) =
            (self.quantized_input(), self.dequantized_output())
        else {
            return quote!();
        };
        let rt = self.rt();
        let (in_scale, in_zero) = (float(scale), int(zero));
        let (out_scale, out_zero) = match last.kernel.args.as_slice() {
            [_, Arg::I32(z), Arg::F32(s), _] => (float(*s), int(*z)),
            other => unreachable!("a Dequantize call's arguments: {other:?}"),
        };
        let bind = self.bind(&[], first.output);
        let (o, l) = self.arena_range(&self.program.tensors[last.inputs[0]]);
        let middle = &steps[1..steps.len() - 1];
        quote! {
            /// `forward_q`'s input is the model's input quantized:
            /// `clamp(round_half_even(x / INPUT_SCALE) + INPUT_ZERO, 0, 255)` (an int8 input's
            /// values as uint8, their zero point raised by 128).
            #[allow(dead_code)]
            pub const INPUT_SCALE: f32 = #in_scale;
            #[allow(dead_code)]
            pub const INPUT_ZERO: i32 = #in_zero;
            /// `forward_q`'s output `q` is `forward`'s output quantized:
            /// `(q - OUTPUT_ZERO) * OUTPUT_SCALE` gives `forward`'s floats, to the bit.
            #[allow(dead_code)]
            pub const OUTPUT_SCALE: f32 = #out_scale;
            #[allow(dead_code)]
            pub const OUTPUT_ZERO: i32 = #out_zero;

            #[inline(always)]
            fn run_q(#weights_param: &#rt::Weights<WEIGHTS_LEN>, input: &[u8; INPUT_LEN], output: &mut [u8; OUTPUT_LEN], arena: &mut [f32; ARENA_LEN], pool: &dyn #rt::pool::Parallel) {
                let hook = |_: usize| {};
                { #bind y.copy_from_slice(input); }
                hook(0);
                #(#middle)*
                output.copy_from_slice(#rt::arena_out::<u8, #o, #l, ARENA_LEN>(arena));
            }
        }
    }

    fn input_len(&self) -> usize {
        self.program.tensors[self.program.input].numel()
    }

    /// `run` with the folded stem: the padded photo in, the stem conv that carries the
    /// preprocessing, then the network's other steps.
    fn run_rgb8(
        &self,
        steps: &[TokenStream],
        copy_out: &TokenStream,
        weights_param: &TokenStream,
    ) -> TokenStream {
        let rt = self.rt();
        let rest = &steps[1..];
        let Some(stem) = self.stem else {
            let (Some(pre), Some((quantize, scale, requant))) =
                (self.preprocess, self.quantized_input())
            else {
                return quote!();
            };
            let bind = self.bind(&[], quantize.output);
            let (scale, requant) = (float(scale), self.requant(requant));
            let (generics, map) = self.pixels_to_input(pre);
            return quote! {
                #[inline(always)]
                fn run_rgb8(#weights_param: &#rt::Weights<WEIGHTS_LEN>, pixels: &[u8; INPUT_LEN], output: &mut [f32; OUTPUT_LEN], arena: &mut [f32; ARENA_LEN], pool: &dyn #rt::pool::Parallel) {
                    let hook = |_: usize| {};
                    // The photo quantized as the first step would quantize its preprocessed
                    // floats: one table per channel, no float stage.
                    { #bind #rt::scalar::u8_pixels_quantize::<#generics>(pixels, y, #map, #scale, #requant); }
                    hook(0);
                    #(#rest)*
                    #copy_out
                }
            };
        };
        let first = self.step(&stem.step);
        quote! {
            #[inline(always)]
            fn run_rgb8(#weights_param: &#rt::Weights<WEIGHTS_LEN>, input: &[f32; PADDED_LEN], output: &mut [f32; OUTPUT_LEN], arena: &mut [f32; ARENA_LEN], pool: &dyn #rt::pool::Parallel) {
                let hook = |_: usize| {};
                #first
                hook(0);
                #(#rest)*
                #copy_out
            }
        }
    }

    /// `forward_rgb8` when the module has a preprocessing: the photo's pixels through the
    /// preprocessing into the stage buffer, then the network.
    fn forward_rgb8(&self, receiver: &TokenStream, weights: &TokenStream) -> TokenStream {
        let Some(pre) = self.preprocess else {
            return quote!();
        };
        let rt = self.rt();
        let (generics, map) = self.pixels_to_input(pre);
        let frame = self.forward_frame(receiver);
        let doc = format!(
            " `forward` on a photo's 8-bit RGB pixels (row-major, already resized and cropped to \
             the input's size), with the preprocessing `{}` applied first.",
            pre.describe()
        );
        let body = match self.stem {
            Some(stem) => {
                let [h, w, rows, cols, top, left] = [
                    stem.height,
                    stem.width,
                    stem.rows,
                    stem.cols,
                    stem.top,
                    stem.left,
                ]
                .map(lit);
                let order = array(&stem.order);
                let border = floats(&stem.border);
                quote! {
                    // The preprocessing is in the stem conv's weights (mnetc's codegen/stem.rs);
                    // the padding around the photo is the value it maps to zero.
                    let padded = #rt::arena_out::<f32, 0, PADDED_LEN, STAGE_LEN>(stage);
                    #rt::scalar::u8_pixels_to_padded_f32::<#h, #w, #rows, #cols, #top, #left, INPUT_LEN, PADDED_LEN>(pixels, padded, #order, #border);
                    run_rgb8(#weights, padded, output, arena, pool);
                }
            }
            None if self.quantized_input().is_some() => quote! {
                let _ = stage;
                run_rgb8(#weights, pixels, output, arena, pool);
            },
            None => quote! {
                #rt::scalar::u8_pixels_to_f32::<#generics>(pixels, stage, #map);
                run(#weights, stage, output, arena, pool, |_| {});
            },
        };
        let rgb8 = self.entry(
            receiver,
            "forward_rgb8",
            &doc,
            quote!(pixels: &[u8; INPUT_LEN], output: &mut [f32; OUTPUT_LEN], scratch: &mut Scratch),
            quote!(pixels, output, scratch),
            quote!(),
            quote! {
                let #rt::Scratch { arena, stage } = scratch;
                #body
            },
        );
        quote!(#rgb8 #frame)
    }

    /// The const generics (pixels, input length, NHWC) and the map arguments (channel order,
    /// scale, mean, std) that the runtime's photo-to-input functions take.
    fn pixels_to_input(&self, pre: &crate::preprocess::Preprocess) -> (TokenStream, TokenStream) {
        let [height, width] = self.photo_size();
        let nhwc = !matches!(
            self.program.tensors[self.program.input].shape.as_slice(),
            [1, 3, _, _]
        );
        let pixels = lit(height * width);
        let order = array(&pre.order.source());
        let scale = float(pre.scale);
        let (mean, std) = (floats(&pre.mean), floats(&pre.std));
        (
            quote!(#pixels, INPUT_LEN, #nhwc),
            quote!(#order, #scale, #mean, #std),
        )
    }

    /// An intra-doc link to entry point `name`: a free function with embedded weights, a
    /// method of `Net` with run-time weights (`within_net`: the link is in one of `Net`'s
    /// docs), so `cargo doc` resolves it either way.
    fn entry_link(&self, name: &str, within_net: bool) -> String {
        match (self.weights_file.is_some(), within_net) {
            (true, _) => format!("[`{name}`]"),
            (false, true) => format!("[`{name}`](Self::{name})"),
            (false, false) => format!("[`{name}`](Net::{name})"),
        }
    }

    /// A public entry point in two forms: `NAME_parallel`, whose kernels run their tasks on a
    /// `pool` it takes last, with `body`; and `NAME`, which calls it on `pool::Sequential`.
    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        receiver: &TokenStream,
        name: &str,
        doc: &str,
        params: TokenStream,
        args: TokenStream,
        ret: TokenStream,
        body: TokenStream,
    ) -> TokenStream {
        let rt = self.rt();
        let (one, parallel) = (format_ident!("{name}"), format_ident!("{name}_parallel"));
        let call = if receiver.is_empty() {
            quote!(#parallel)
        } else {
            quote!(self.#parallel)
        };
        let parallel_doc = format!(
            " {} with every kernel call's tasks run on `pool`: the same output, to the bit, on \
             any number of threads (the tasks are fixed when the module is generated).",
            self.entry_link(name, true)
        );
        quote! {
            #[doc = #doc]
            #[allow(dead_code)]
            pub fn #one(#receiver #params) #ret {
                #call(#args, &#rt::pool::Sequential)
            }

            #[doc = #parallel_doc]
            #[allow(dead_code)]
            pub fn #parallel(#receiver #params, pool: &dyn #rt::pool::Parallel) #ret {
                #body
            }
        }
    }

    /// Rows and columns of a photo input (`[1, 3, H, W]` or `[1, H, W, 3]`, checked by
    /// `generate`).
    fn photo_size(&self) -> [usize; 2] {
        match self.program.tensors[self.program.input].shape.as_slice() {
            [1, 3, h, w] | [1, h, w, 3] => [*h, *w],
            _ => unreachable!("checked by generate"),
        }
    }

    /// The module-level items of `forward_frame` (its scratch type and fit), when the module
    /// has a preprocessing.
    fn frame_items(&self) -> TokenStream {
        let Some(pre) = self.preprocess else {
            return quote!();
        };
        let rt = self.rt();
        let [height, width] = self.photo_size();
        let fit = match pre.resize {
            crate::preprocess::Resize::ShorterSideThenCrop { fraction } => {
                let short = lit((height.min(width) as f32 / fraction) as usize);
                quote!(#rt::frame::Fit::ShorterSide(#short))
            }
            crate::preprocess::Resize::Stretch => quote!(#rt::frame::Fit::Stretch),
        };
        let (h, w) = (lit(height), lit(width));
        let link = self.entry_link("forward_frame", false);
        let scratch_doc = format!(
            " Working memory of {link}'s resize (about 300 KB at 224 x 224); all zeros is a \
             valid value."
        );
        let fit_doc = format!(" How {link} brings a frame to the input's size.");
        quote! {
            #[doc = #scratch_doc]
            #[allow(dead_code)]
            pub type FrameScratch = #rt::frame::FrameScratch<#h, #w, INPUT_LEN, { #rt::frame::coef_len(#w) }, { #rt::frame::row_len(#w) }>;

            #[doc = #fit_doc]
            #[allow(dead_code)]
            pub const FIT: #rt::frame::Fit = #fit;
        }
    }

    /// `forward_frame` (a method of `Net` with run-time weights): a camera frame or decoded
    /// photo of any size and pixel layout, resized and cropped by the runtime's
    /// `frame::resize` as the preprocessing says, then `forward_rgb8`.
    fn forward_frame(&self, receiver: &TokenStream) -> TokenStream {
        let rt = self.rt();
        let call = if receiver.is_empty() {
            quote!(forward_rgb8_parallel)
        } else {
            quote!(self.forward_rgb8_parallel)
        };
        let doc = format!(
            " {} on a frame of any size, row stride and pixel layout (RGB, RGBA, BGRA, NV21, \
             NV12), resized and cropped as the preprocessing says without allocating; refuses a \
             frame `frame::check` refuses or one more than `frame::MAX_SCALE` times the input.",
            self.entry_link("forward_rgb8", true)
        );
        self.entry(
            receiver,
            "forward_frame",
            &doc,
            quote!(frame: &#rt::frame::Frame, output: &mut [f32; OUTPUT_LEN], scratch: &mut Scratch, frame_scratch: &mut FrameScratch),
            quote!(frame, output, scratch, frame_scratch),
            quote!(-> Result<(), #rt::frame::FrameError>),
            quote! {
                #rt::frame::resize(frame, FIT, frame_scratch)?;
                #call(&frame_scratch.pixels, output, scratch, pool);
                Ok(())
            },
        )
    }

    /// `forward`, the other-layout entry point and `forward_with_hook`: free functions over the
    /// embedded weights, or methods of `Net` when the weights arrive at run time.
    fn entry_points(
        &self,
        other_name: TokenStream,
        other_doc: &str,
        forward_doc: &str,
        read: TokenStream,
        stage_strides: TokenStream,
    ) -> TokenStream {
        let rt = self.rt();
        let copy = self.kernel(mnetc_targets::Kernel::Copy);
        let input = &self.program.tensors[self.program.input];
        let in_shape = array(&input.shape);
        let (weights, receiver, static_weights) = match self.weights_file {
            Some(file) => (
                quote!(&WEIGHTS),
                quote!(),
                quote!(static WEIGHTS: #rt::Weights<WEIGHTS_LEN> = #rt::Weights(*include_bytes!(#file));),
            ),
            None => (quote!(&self.weights), quote!(&self,), quote!()),
        };
        let rgb8 = self.forward_rgb8(&receiver, &weights);
        let stage_view = match self.stem {
            Some(_) => quote!(let stage = #rt::arena_out::<f32, 0, INPUT_LEN, STAGE_LEN>(stage);),
            None => quote!(),
        };
        let params =
            quote!(input: &[f32; INPUT_LEN], output: &mut [f32; OUTPUT_LEN], scratch: &mut Scratch);
        let args = quote!(input, output, scratch);
        let forward = self.entry(
            &receiver,
            "forward",
            forward_doc,
            params.clone(),
            args.clone(),
            quote!(),
            quote!(run(#weights, input, output, &mut scratch.arena, pool, |_| {});),
        );
        let other = self.entry(
            &receiver,
            &other_name.to_string(),
            other_doc,
            params,
            args,
            quote!(),
            quote! {
                let #rt::Scratch { arena, stage } = scratch;
                #stage_view
                // Visit the model's layout in order, reading the other layout.
                #copy::<4, INPUT_LEN, INPUT_LEN>(input, #read, stage, 0, #stage_strides, #in_shape);
                run(#weights, stage, output, arena, pool, |_| {});
            },
        );
        let forward_q = match self.dequantized_output() {
            Some(_) => self.entry(
                &receiver,
                "forward_q",
                " `forward` in the model's integers: the input quantized as [`INPUT_SCALE`] and \
                 [`INPUT_ZERO`] say, in the model's own layout, and the output before the last \
                 dequantization ([`OUTPUT_SCALE`], [`OUTPUT_ZERO`]).",
                quote!(input: &[u8; INPUT_LEN], output: &mut [u8; OUTPUT_LEN], scratch: &mut Scratch),
                quote!(input, output, scratch),
                quote!(),
                quote!(run_q(#weights, input, output, &mut scratch.arena, pool);),
            ),
            None => quote!(),
        };
        let functions = quote! {
            #forward
            #other
            #rgb8
            #forward_q

            /// [`STEPS`] names the kernel calls; this is `forward_parallel`, calling `hook(i)`
            /// on the calling thread after kernel call `i` (for profiling).
            #[allow(dead_code)]
            pub fn forward_with_hook(#receiver input: &[f32; INPUT_LEN], output: &mut [f32; OUTPUT_LEN], scratch: &mut Scratch, pool: &dyn #rt::pool::Parallel, hook: impl FnMut(usize)) {
                run(#weights, input, output, &mut scratch.arena, pool, hook);
            }
        };
        if self.weights_file.is_some() {
            return quote!(#static_weights #functions);
        }
        let layout = self.layout.iter().map(|b| Literal::u8_unsuffixed(*b));
        quote! {
            /// The layout hash a weights file for this module carries (see `Net::from_bytes`):
            /// target, shapes and packing.
            #[allow(dead_code)]
            pub const LAYOUT: [u8; 32] = [#(#layout),*];

            /// The network with its weights, read at run time.
            pub struct Net {
                weights: #rt::BoxedWeights<WEIGHTS_LEN>,
            }

            impl Net {
                /// Reads a weights file written by `mnetc compile --runtime-weights` for this
                /// network and target: checks its header, layout hash and length (never
                /// panics) and copies the weights into aligned memory.
                #[allow(dead_code)]
                pub fn from_bytes(bytes: &[u8]) -> Result<Net, #rt::WeightsError> {
                    Ok(Net { weights: #rt::weights_from_bytes::<WEIGHTS_LEN>(bytes, &LAYOUT)? })
                }

                #functions
            }
        }
    }
}
