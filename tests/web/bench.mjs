// mnetc's web packages against onnxruntime-web in headless Chromium, one thread, side by side:
// `bench.mjs DIR RUNS NAME...`, where DIR/NAME/ holds mobilenet.wasm and mobilenet.js (from
// `mnetc package --platform web`), model.onnx and input.f32. For each model, both engines are
// loaded in one page, warmed up, then timed alternately on the same input (mnetc's runTensor,
// onnxruntime-web's session.run with the wasm execution provider, SIMD, numThreads 1); prints a
// Markdown table of medians and minima, the ratio, and the download sizes. bench.sh runs it.
import { stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, serve } from "./serve.mjs";

const [dir, runsArg, ...names] = process.argv.slice(2);
const runs = Number(runsArg);
const here = dirname(fileURLToPath(import.meta.url));
const ortDist = join(here, "node_modules/onnxruntime-web/dist");
const server = await serve({ "/": dir, "/ort/": ortDist });
const browser = await launch();
const rows = [];
try {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>mnetc vs onnxruntime-web</title>");
  await page.goto(`${server.url}/index.html`);
  for (const name of names) {
    const r = await page.evaluate(async ({ name, runs }) => {
      const ort = await import("/ort/ort.wasm.min.mjs");
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.simd = true;
      ort.env.wasm.wasmPaths = "/ort/";
      const mnetc = await import(`/${name}/mobilenet.js`);
      const model = await mnetc.Model.load(new URL(`/${name}/mobilenet.wasm`, location.href));
      const session = await ort.InferenceSession.create(`/${name}/model.onnx`, {
        executionProviders: ["wasm"],
        graphOptimizationLevel: "all",
      });
      const x = new Float32Array(await (await fetch(`/${name}/input.f32`)).arrayBuffer());
      const meta = session.inputMetadata?.[0];
      const shape = meta?.shape?.map((d) => (typeof d === "number" ? d : 1));
      const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, shape) };
      const outName = session.outputNames[0];
      let diff = 0;
      const a = model.runTensor(x);
      const b = (await session.run(feeds))[outName].data;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      for (let i = 0; i < 10; i++) {
        model.runTensor(x);
        await session.run(feeds);
      }
      const tm = [];
      const to = [];
      for (let i = 0; i < runs; i++) {
        let t = performance.now();
        model.runTensor(x);
        tm.push(performance.now() - t);
        t = performance.now();
        await session.run(feeds);
        to.push(performance.now() - t);
      }
      const median = (v) => {
        const s = [...v].sort((p, q) => p - q);
        return s[Math.floor(s.length / 2)];
      };
      return {
        mnetc: [median(tm), Math.min(...tm)],
        ort: [median(to), Math.min(...to)],
        diff,
        isolated: self.crossOriginIsolated,
      };
    }, { name, runs });
    const size = async (p) => (await stat(p)).size;
    rows.push({
      name,
      ...r,
      wasm: await size(join(dir, name, "mobilenet.wasm")),
      onnx: await size(join(dir, name, "model.onnx")),
    });
    console.error(`${name}: done`);
  }
  const ortWasm = (await stat(join(ortDist, "ort-wasm-simd-threaded.wasm"))).size;
  const version = await browser.version();
  const mb = (n) => (n / 1e6).toFixed(2);
  console.log(`Headless Chromium ${version}, one thread, ${runs} runs each, alternating; onnxruntime-web ${(await import(join(here, "node_modules/onnxruntime-web/package.json"), { with: { type: "json" } })).default.version} (wasm EP, SIMD).\n`);
  console.log("| model | mnetc median ms | min | onnxruntime-web median ms | min | mnetc / ort | max abs diff | mnetc .wasm MB | ort .wasm + .onnx MB |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.mnetc[0].toFixed(2)} | ${r.mnetc[1].toFixed(2)} | ${r.ort[0].toFixed(2)} | ${r.ort[1].toFixed(2)} | ${(r.mnetc[0] / r.ort[0]).toFixed(2)}x | ${r.diff.toExponential(1)} | ${mb(r.wasm)} | ${mb(ortWasm)} + ${mb(r.onnx)} |`);
  }
} finally {
  await browser.close();
  server.close();
}
