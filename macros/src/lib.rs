//! `mobilenet!`: a MobileNet built for one width multiplier, resolution and target at compile
//! time, inline in the user's crate. A thin front end: it parses its arguments with `syn` and
//! hands them to `mnetc::inline`, the same compiler core as the `mnetc` command line and the
//! build.rs `Builder`, so the module it expands to is the CLI's `mnetc compile` output (its
//! weights file written once, content-addressed, under `$TMPDIR/mnetc-macro` and named by
//! absolute path). Use it through `mnetc-runtime`'s `macros` feature, which re-exports it:
//!
//! ```toml
//! [dependencies]
//! mnetc-runtime = { version = "0.1", features = ["macros"] }
//! ```
//!
//! ```ignore
//! mnetc_runtime::mobilenet!(alpha = 0.25, res = 128, weights = "model.onnx", name = net);
//! ```
//!
//! # Arguments
//!
//! Named, in any order, each at most once. The network is either one of the papers' MobileNets
//! (`alpha` and `res`, with `arch`, `classes`, `relu6`) or a JSON description (`model`):
//!
//! | argument | value | meaning |
//! | --- | --- | --- |
//! | `alpha` | number in (0, 1], e.g. `0.5` (v2, v3: up to 1.4) | width multiplier |
//! | `res` | integer, e.g. `128` | input height and width |
//! | `arch` | `v1` (default), `v2`, `v3_small`, `v3_large` | the architecture: the v1 paper's Table 1, or torchvision's tables for v2 and v3 |
//! | `classes` | integer (default 1000) | classifier outputs |
//! | `relu6` | `true` or `false` (default) | v1 with ReLU6 instead of ReLU |
//! | `model` | string: a JSON description's path | the network and its weights as `mnetc describe` writes them; not with the five above |
//! | `weights` | string: an ONNX or safetensors file's path | the trained weights, matched to the network's layers and embedded; without it the module is a `Net` that takes its weights at run time (`Net::from_bytes`, the file `mnetc compile --runtime-weights` writes), and so is a description whose weights are `random` placeholders |
//! | `name` | identifier (default `mobilenet`) | the module's name |
//! | `target` | `auto` (default), `generic`, `avx2`, `avxvnni`, `avx512`, `avx512vnni`, `neon`, `neondot`, `rvv`, `wasm_simd128` | the kernels: `auto` chooses by the build's `cfg` (avx2 on x86-64 with AVX2 and FMA enabled, avxvnni if AVX-VNNI is enabled too, neon or neondot on aarch64, wasm_simd128 on wasm32 with simd128, else generic; never rvv or avx512) |
//! | `preprocess` | `torchvision`, `keras`, `keras_v3`, `caffe`, `unit` or `auto` | the module also gets `forward_rgb8` and `forward_frame`, which take 8-bit RGB pixels or camera frames and apply this preprocessing |
//!
//! Paths are relative to the crate's `Cargo.toml` (`CARGO_MANIFEST_DIR`). Errors stop the build
//! at the argument they are about: an unknown argument or architecture, a file that does not
//! exist, weights that do not fit the network, `model` combined with `alpha`.
//!
//! # Example
//!
//! A tiny JSON description (`doc/tiny.json`: a v1 stem and two depthwise separable blocks at
//! 32 x 32, with seeded placeholder weights, so the module takes its weights at run time)
//! expanded to a module, given the weights file mnetc writes for it, run, and compared with
//! mnetc's reference interpreter on the same description:
//!
//! ```
//! mnetc_macros::mobilenet!(model = "doc/tiny.json", name = tiny, target = generic);
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/doc/tiny.json");
//! let graph = mnetc::frontend(std::path::Path::new(path), &mnetc::Options::default())?;
//! // What `mnetc compile doc/tiny.json --runtime-weights` writes beside its module.
//! let options = mnetc::codegen::CodegenOptions { runtime_weights: true, ..Default::default() };
//! let weights = mnetc::compile_graph(&graph, &options)?.weights;
//! let net = tiny::Net::from_bytes(&weights).expect("the weights of this network and target");
//!
//! let input = [0.5f32; tiny::INPUT_LEN];
//! let mut output = [0f32; tiny::OUTPUT_LEN];
//! let mut scratch = mnetc_runtime::boxed_zeroed::<tiny::Scratch>();
//! net.forward(&input, &mut output, &mut scratch);
//!
//! let x = mnetc::ir::Tensor::f32(tiny::INPUT_SHAPE.to_vec(), input.to_vec());
//! let expected = mnetc::interp::run(&graph, &x)?[0].to_f32();
//! assert_eq!(tiny::OUTPUT_SHAPE, [1, 10]);
//! assert!(expected.iter().any(|v| v.abs() > 1e-3));
//! for (got, want) in output.iter().zip(&expected) {
//!     assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0), "{got} vs {want}");
//! }
//! # Ok::<(), mnetc::Error>(())
//! ```

use mnetc::codegen::Target;
use mnetc::inline::{Arg, Network, Request, TargetChoice};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use std::path::PathBuf;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, Token};

/// `key = value`.
struct Argument {
    key: Ident,
    value: Expr,
}

impl Parse for Argument {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.parse()?;
        input.parse::<Token![=]>()?;
        Ok(Argument {
            key,
            value: input.parse()?,
        })
    }
}

struct Arguments(Punctuated<Argument, Token![,]>);

impl Parse for Arguments {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Ok(Arguments(Punctuated::parse_terminated(input)?))
    }
}

/// Builds a MobileNet at compile time; see the crate documentation.
#[proc_macro]
pub fn mobilenet(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let args = syn::parse_macro_input!(input as Arguments);
    match expand(args) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn error(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}

fn number(value: &Expr, what: &str) -> syn::Result<f64> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>(),
        other => Err(error(
            syn::spanned::Spanned::span(other),
            format!("{what} must be a number literal"),
        )),
    }
}

fn integer(value: &Expr, what: &str) -> syn::Result<usize> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i
            .base10_parse::<usize>()
            .map_err(|_| error(i.span(), format!("{what} must be a positive integer"))),
        other => Err(error(
            syn::spanned::Spanned::span(other),
            format!("{what} must be a positive integer"),
        )),
    }
}

fn string(value: &Expr, what: &str) -> syn::Result<String> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        other => Err(error(
            syn::spanned::Spanned::span(other),
            format!("{what} must be a string literal (a path relative to CARGO_MANIFEST_DIR)"),
        )),
    }
}

fn boolean(value: &Expr, what: &str) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(error(
            syn::spanned::Spanned::span(other),
            format!("{what} must be true or false"),
        )),
    }
}

fn ident(value: &Expr, what: &str) -> syn::Result<Ident> {
    match value {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            Ok(p.path.get_ident().expect("checked").clone())
        }
        other => Err(error(
            syn::spanned::Spanned::span(other),
            format!("{what} must be an identifier"),
        )),
    }
}

/// A path relative to the user's crate, which must exist.
fn file(value: &Expr, what: &str) -> syn::Result<PathBuf> {
    let rel = string(value, what)?;
    let base = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    let path = base.join(&rel);
    if !path.is_file() {
        return Err(error(
            syn::spanned::Spanned::span(value),
            format!(
                "{what} file '{rel}' does not exist (paths are relative to the crate's Cargo.toml)"
            ),
        ));
    }
    Ok(path)
}

fn expand(args: Arguments) -> syn::Result<TokenStream> {
    let mut seen: Vec<(String, Span)> = Vec::new();
    let (mut alpha, mut res, mut classes, mut relu6) = (None, None, None, None);
    let mut arch = None;
    let (mut weights, mut model, mut name, mut target) = (None, None, None, None);
    let mut preprocess = None;
    let mut spans = std::collections::HashMap::new();
    for arg in &args.0 {
        let key = arg.key.to_string();
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(error(arg.key.span(), format!("`{key}` is given twice")));
        }
        seen.push((key.clone(), arg.key.span()));
        let span = syn::spanned::Spanned::span(&arg.value);
        let v = &arg.value;
        match key.as_str() {
            "alpha" => {
                spans.insert("alpha", span);
                alpha = Some(number(v, "alpha")?);
            }
            "res" => {
                spans.insert("res", span);
                res = Some(integer(v, "res")?);
            }
            "classes" => {
                spans.insert("classes", span);
                classes = Some(integer(v, "classes")?);
            }
            "relu6" => relu6 = Some(boolean(v, "relu6")?),
            "arch" => {
                let a = ident(v, "arch")?;
                arch = Some(a.to_string().parse::<mnetc::import::json::Arch>().map_err(|_| {
                    error(
                        a.span(),
                        format!("unknown architecture `{a}`; expected v1, v2, v3_small or v3_large"),
                    )
                })?);
            }
            "weights" => {
                spans.insert("weights", span);
                weights = Some(file(v, "weights")?);
            }
            "model" => {
                spans.insert("model", span);
                model = Some(file(v, "model")?);
            }
            "name" => name = Some(ident(v, "name")?),
            "preprocess" => {
                spans.insert("preprocess", span);
                // `keras_v3` for the preset `keras-v3`.
                preprocess = Some(ident(v, "preprocess")?.to_string().replace('_', "-"));
            }
            "target" => {
                spans.insert("target", span);
                let t = ident(v, "target")?;
                // Identifiers spell `-` as `_`: `wasm_simd128` for the target `wasm-simd128`.
                target = Some(match t.to_string().as_str() {
                    "auto" => TargetChoice::Auto,
                    other => TargetChoice::Fixed(
                        other.replace('_', "-").parse::<Target>().map_err(|_| {
                            let mut names: Vec<String> = vec!["auto".into()];
                            names.extend(Target::all().map(|t| t.name().replace('-', "_")));
                            let last = names.pop().unwrap_or_default();
                            error(
                                t.span(),
                                format!(
                                    "unknown target `{other}`; expected {} or {last}",
                                    names.join(", ")
                                ),
                            )
                        })?,
                    ),
                });
            }
            other => {
                return Err(error(
                    arg.key.span(),
                    format!(
                        "unknown argument `{other}`; expected alpha, res, arch, classes, relu6, weights, model, name, target or preprocess"
                    ),
                ));
            }
        }
    }
    let network = match (model, alpha, res) {
        (Some(path), None, None) if classes.is_none() && relu6.is_none() && arch.is_none() => {
            Network::Json(path)
        }
        (Some(_), _, _) => {
            let (key, span) = seen
                .iter()
                .find(|(k, _)| matches!(k.as_str(), "alpha" | "res" | "arch" | "classes" | "relu6"))
                .cloned()
                .expect("some network argument is present");
            return Err(error(
                span,
                format!("`{key}` cannot be combined with `model`: the JSON description sets it"),
            ));
        }
        (None, Some(alpha), Some(res)) => {
            let arch = arch.unwrap_or(mnetc::import::json::Arch::V1);
            if relu6.is_some() && arch != mnetc::import::json::Arch::V1 {
                let span = seen.iter().find(|(k, _)| k == "relu6").expect("given").1;
                return Err(error(
                    span,
                    "`relu6` is a v1 option (v2 and v3 fix their activations)",
                ));
            }
            Network::Paper {
                arch,
                alpha,
                res,
                classes: classes.unwrap_or(1000),
                relu6: relu6.unwrap_or(false),
            }
        }
        (None, _, _) => {
            return Err(error(
                Span::call_site(),
                "mobilenet! needs `alpha` and `res` (the paper's MobileNet v1, or `arch`'s), or `model = \"description.json\"`",
            ));
        }
    };
    let request = Request {
        network,
        weights,
        target: target.unwrap_or(TargetChoice::Auto),
        preprocess,
    };
    let at = |a: Arg| {
        let key = match a {
            Arg::Alpha => "alpha",
            Arg::Res => "res",
            Arg::Classes => "classes",
            Arg::Weights => "weights",
            Arg::Model => "model",
            Arg::Target => "target",
            Arg::Preprocess => "preprocess",
        };
        spans.get(key).copied().unwrap_or_else(Span::call_site)
    };
    let to_error = |e: mnetc::inline::ArgError| error(at(e.arg), e.message);
    let dir = std::env::temp_dir().join("mnetc-macro");
    let weights_file = mnetc::codegen::WeightsFile::ContentAddressed(dir.display().to_string());
    let variants = mnetc::inline::generate(&request, &weights_file).map_err(to_error)?;
    let body = mnetc::inline::write(&request, &variants, &dir).map_err(to_error)?;
    let body: TokenStream = body.parse().map_err(|e| {
        error(
            Span::call_site(),
            format!("mnetc generated invalid tokens: {e}"),
        )
    })?;
    let name = name.unwrap_or_else(|| Ident::new("mobilenet", Span::call_site()));
    Ok(quote! {
        pub mod #name {
            #body
        }
    })
}
