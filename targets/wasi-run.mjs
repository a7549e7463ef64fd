#!/usr/bin/env -S node --experimental-wasi-unstable-preview1 --no-warnings
// Runs a wasm32-wasip1 program under Node.js's WASI: `wasi-run.mjs PROGRAM.wasm ARGS...`, with
// the file system's root preopened (programs get absolute paths), the environment passed on,
// and the program's exit code as this process's. mnetc's `verify` and `bench` run code for the
// wasm-simd128 target with it, and `.cargo/config.toml` names it as the wasm32-wasip1 runner.
import { readFile } from "node:fs/promises";
import process from "node:process";
import { WASI } from "node:wasi";

const [program, ...args] = process.argv.slice(2);
if (!program) {
    console.error("usage: wasi-run.mjs PROGRAM.wasm [ARGS...]");
    process.exit(2);
}
const wasi = new WASI({
    version: "preview1",
    args: [program, ...args],
    env: process.env,
    preopens: { "/": "/" },
    returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(program));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
