//! The `mnetc` command's machinery beyond the compiler library: building and running generated
//! code with cargo (natively or under QEMU) for `verify` and `bench`, and `mnetc package`. The
//! library crate `mnetc` stays free of these (and of clap and tera), so build scripts and the
//! `mobilenet!` macro compile only the compiler.

pub mod chart;
pub mod package;
pub mod sweep;
mod toolchain;
pub mod verify;
pub mod web;
