// The example page in headless Chromium: `browser-test.mjs SITE PHOTO ORACLE MODEL SCREENSHOT`.
// SITE is a folder holding examples/web's page with pkg/ packaged (and its sample photos);
// the page is served on 127.0.0.1 and loaded with each sample photo (through its buttons),
// then PHOTO (a file not shipped with the page) is picked through the file input. ORACLE is
// that photo as the model's input tensor (little-endian f32), MODEL the ONNX file: onnxruntime-web
// runs it in the same browser for the reference. Prints one JSON object: per photo, the top-5
// the page shows and its time, onnxruntime's output for the picked photo, and the errors the
// page shows for a file that is not a photo. The Rust test (tests/tests/web.rs) judges it.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, serve } from "./serve.mjs";

const [site, photo, oracle, model, screenshot] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const server = await serve({
  "/": site,
  "/ort/": join(here, "node_modules/onnxruntime-web/dist"),
  "/data/": dirname(model),
  "/oracle/": dirname(oracle),
});
const browser = await launch();
const out = { photos: {}, errors: {} };
try {
  const page = await browser.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(m.text()));
  page.on("pageerror", (e) => logs.push(`page error: ${e.message}`));
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => ["ready", "error"].includes(document.body.dataset.state), null, { timeout: 60000 });
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== "ready") {
    throw new Error(`the page did not load: ${await page.textContent("#error")} ${logs.join("\n")}`);
  }
  const shown = async () => {
    await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 60000 });
    return page.evaluate(() => ({
      state: document.body.dataset.state,
      error: document.getElementById("error").textContent,
      ms: Number(document.getElementById("time").dataset.ms),
      top5: [...document.querySelectorAll("#top5 li")].map((li) => ({
        index: Number(li.dataset.index),
        probability: Number(li.dataset.probability),
        text: li.textContent,
      })),
    }));
  };
  const samples = await page.$$eval("button[data-sample]", (bs) => bs.map((b) => b.dataset.sample));
  for (const name of samples) {
    await page.evaluate(() => { document.body.dataset.state = "clicked"; });
    await page.click(`button[data-sample="${name}"]`);
    out.photos[name] = await shown();
  }
  // The photo the page does not ship, picked as a person would.
  await page.evaluate(() => { document.body.dataset.state = "clicked"; });
  await page.setInputFiles("#file", photo);
  out.photos.picked = await shown();
  await page.screenshot({ path: screenshot, fullPage: true });
  // A file that is not a photo.
  await page.evaluate(() => { document.body.dataset.state = "clicked"; });
  await page.setInputFiles("#file", { name: "notes.jpg", mimeType: "image/jpeg", buffer: Buffer.from("not a photo") });
  out.errors.undecodable = await shown();
  // onnxruntime-web on the picked photo's tensor, in this browser (wasm, one thread).
  out.oracle = await page.evaluate(async ({ modelUrl, tensorUrl }) => {
    const ort = await import("/ort/ort.wasm.min.mjs");
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = "/ort/";
    const session = await ort.InferenceSession.create(modelUrl, { executionProviders: ["wasm"] });
    const x = new Float32Array(await (await fetch(tensorUrl)).arrayBuffer());
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", x, [1, 3, 224, 224]) };
    const y = await session.run(feeds);
    return Array.from(y[session.outputNames[0]].data);
  }, { modelUrl: `/data/${model.split("/").pop()}`, tensorUrl: `/oracle/${oracle.split("/").pop()}` });
  out.logs = logs;
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(out));
