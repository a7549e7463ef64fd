//! `mobilenet!`: a MobileNet built for one width multiplier, resolution and target at compile
//! time, inline in the user's crate. A thin front end: it parses its arguments with `syn` and
//! hands them to [`mnetc::inline`], the same compiler core as the `mnetc` command line and the
//! build.rs `Builder`, so the module it expands to is the CLI's `mnetc compile` output (the
//! weights file named by absolute path). Use it through `mnetc-runtime`'s `macros` feature:
//!
//! ```ignore
//! mnetc_runtime::mobilenet!(alpha = 0.25, res = 128, weights = "model.onnx", name = net);
//! ```
//!
//! Arguments (named, any order): `alpha = 0.5` and `res = 128` (the paper's MobileNet v1, or
//! with `arch = v2 | v3_small | v3_large` that architecture, torchvision's tables),
//! `classes = 1000`, `relu6 = false` (v1); or `model = "net.json"` (a JSON description) instead;
//! `weights = "path"` (ONNX or safetensors, relative to `CARGO_MANIFEST_DIR`; without it the
//! module reads its weights at run time with `Net::from_bytes`); `name = ident` (default
//! `mobilenet`); `target = auto` or a target's name (`generic`, `avx2`, `avxvnni`, `neon`,
//! `wasm_simd128` for `wasm-simd128`, ...; default `auto`: chosen by the build's `cfg`); `preprocess = torchvision | keras | keras_v3 | caffe | unit | auto` (the
//! module also gets `forward_rgb8`). Errors point at the argument they are about.

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
