// A web package's ES module under Node.js (fetch of file: URLs stubbed): `node-test.mjs
// PACKAGE.js INPUT.f32 [WRONG.weights]`. Prints one JSON object: the error a classify() before
// load() throws, the output of runTensor(INPUT) (the Rust test compares it with onnxruntime's),
// the errors for bad images, and, for a package with run-time weights, the error load() throws
// on WRONG.weights (another network's file).
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

globalThis.fetch = async (url) => {
  try {
    const data = await readFile(new URL(url));
    return { ok: true, status: 200, arrayBuffer: async () => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) };
  } catch {
    return { ok: false, status: 404 };
  }
};

const [pkg, input, wrong] = process.argv.slice(2);
const m = await import(pathToFileURL(pkg).href);
const out = { errors: {} };
const message = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    return e.message;
  }
};
const tiny = { data: new Uint8ClampedArray(4), width: 1, height: 1 };
out.errors.beforeLoad = message(() => m.classify(tiny));
const loading = m.load();
out.errors.whileLoading = message(() => m.classify(tiny));
if (wrong) {
  try {
    await m.Model.load(undefined, { weights: pathToFileURL(wrong) });
    out.errors.wrongWeights = null;
  } catch (e) {
    out.errors.wrongWeights = e.message;
  }
}
const model = await loading;
const x = new Float32Array((await readFile(input)).buffer.slice(0));
out.output = Array.from(model.runTensor(x));
out.errors.shortPixels = message(() => model.classify({ data: new Uint8ClampedArray(10), width: 300, height: 200 }));
out.errors.huge = message(() => model.classify({ data: new Uint8ClampedArray(4 * 6000 * 6000), width: 6000, height: 6000 }));
out.errors.notAnImage = message(() => model.classify(null));
out.errors.wrongTensor = message(() => model.runTensor(new Float32Array(3)));
out.gray = model.classify({ data: new Uint8ClampedArray(64 * 48 * 4).fill(128), width: 64, height: 48 }, { top: 1 });
console.log(JSON.stringify(out));
