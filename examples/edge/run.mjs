// A model on an "edge device" (issue 16): the trained MNIST network compiled to a plan file, run by the WASI command
// (packages/core-wasm/build/spikelens.wasi.wasm) under Node's node:wasi as any WASI runtime would run it, its answer
// and last Spike Activation Map printed; then the same plan and input in the harness module, run by Node's engine and
// by wabt's wasm-interp (an interpreter: no JIT, no host functions), whose hashes must be the hash of the files the
// WASI command wrote.
//
//   node examples/edge/run.mjs [--image PNG] [--out DIR]      (after pnpm install && pnpm build)
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WASI } from "node:wasi";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const pkg = (p) => join(REPO, "packages", p);
const { decodePng } = await import(join(pkg("sam"), "dist", "node", "index.js"));
const { imageToPixels, writeNpy, readNpy, hashOutputs, readPlanHeader } = await import(join(pkg("sam"), "dist", "index.js"));
const { buildHarness, runInNode, runInInterp, hasInterp, showHash } = await import(join(pkg("core-wasm"), "scripts", "harness.mjs"));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const image = resolve(opt("--image", join(REPO, "samples", "mnist", "digit-7-0.png")));
const out = resolve(opt("--out", mkdtempSync(join(tmpdir(), "spikelens-edge-"))));
mkdirSync(out, { recursive: true });
const model = join(REPO, "models", "mnist-lif-bptt.safetensors");

// (a) the plan: the network, its weights and every buffer as one file; batch 1, the lif2 layer's SAM recorded
execFileSync(process.execPath, [join(pkg("cli"), "bin", "spikelens.js"), "compile", model, "-o", join(out, "plan.slplan"), "--batch", "1", "--sam", "lif2"], {
  stdio: ["ignore", "ignore", "inherit"],
});
const plan = new Uint8Array(readFileSync(join(out, "plan.slplan")));
const header = readPlanHeader(plan);
console.log(`plan:   ${join(out, "plan.slplan")} (${plan.length} bytes; batch ${header.batch}, ${header.timesteps} steps, input [${header.inputShape}])`);

// (b) the input as the WASI command takes it: float32 pixels [1, C, H, W], 0..255 as the CLI reads a PNG
const png = decodePng(new Uint8Array(readFileSync(image)), image);
const [C, H, W] = header.inputShape;
const pixels = imageToPixels(png.rgba, png.width, png.height, C, H, W, image);
writeFileSync(join(out, "input.npy"), writeNpy(pixels, [1, C, H, W]));
console.log(`input:  ${join(out, "input.npy")} (${basename(image)})`);

// (c) the WASI command, preview1, with `out` as its current directory (as `wasmtime run --dir=.` in `out` gives it)
const wasiFile = join(pkg("core-wasm"), "build", "spikelens.wasi.wasm");
const errFile = join(out, "wasi-stderr.txt");
const fd = openSync(errFile, "w");
const wasi = new WASI({ version: "preview1", args: ["spikelens.wasi.wasm", "plan.slplan", "input.npy", "wasi-out"], preopens: { ".": out }, returnOnExit: true, stderr: fd });
const t0 = performance.now();
const instance = await WebAssembly.instantiate(new WebAssembly.Module(readFileSync(wasiFile)), wasi.getImportObject());
const code = wasi.start(instance);
closeSync(fd);
if (code !== 0) {
  console.error(`spikelens.wasi.wasm exited with ${code}: ${readFileSync(errFile, "utf8").trim()}`);
  process.exit(1);
}
console.log(`wasi:   spikelens.wasi.wasm plan.slplan input.npy wasi-out: exit 0 in ${(performance.now() - t0).toFixed(0)} ms`);

// (d) the answer and the map: the argmax of the scores, the last step's lif2 SAM as shades
const npy = (f) => readNpy(new Uint8Array(readFileSync(join(out, "wasi-out", f))), f);
const scores = npy("output.npy");
const s = Array.from(scores.data);
const digit = s.indexOf(Math.max(...s));
console.log(`scores: ${s.map((v) => v.toFixed(3)).join(" ")}`);
console.log(`prediction: ${digit}`);
const sam = npy("lif2.sam.npy"); // [T, B, h, w]
const [T, , h, w] = sam.shape;
const last = sam.data.subarray((T - 1) * h * w, T * h * w);
const top = Math.max(...last);
const SHADES = " .:-=+*#%@";
console.log(`lif2 SAM, step ${T - 1} of ${T} (${h}x${w}, max ${top.toPrecision(3)}):`);
for (let y = 0; y < h; y++) {
  let row = "  ";
  for (let x = 0; x < w; x++) {
    const v = top > 0 ? last[y * w + x] / top : 0;
    const c = SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))];
    row += c + c;
  }
  console.log(row);
}

// (e) the harness: the same plan and input as data in a module with no imports; its run() hashes the scores and the
// outputs. The files the WASI command wrote, hashed here in JS, must give the same number.
const files = ["output.npy", ...header.outputs.map((o) => o.file)];
const fileHash = hashOutputs(files.map((f) => npy(f).data));
const wasm = buildHarness(plan, pixels, 0);
writeFileSync(join(out, "harness.wasm"), wasm);
const nodeHash = runInNode(wasm);
console.log(`hash of the WASI command's files (JS): ${showHash(fileHash)}`);
console.log(`hash from the harness under Node:      ${showHash(nodeHash)}`);
let ok = nodeHash === fileHash;
if (await hasInterp()) {
  const r = await runInInterp(join(out, "harness.wasm"));
  console.log(`hash from the harness under wasm-interp: ${showHash(r.hash)} (${r.ms.toFixed(0)} ms)`);
  ok &&= r.hash === fileHash;
  console.log(`hashes match: ${ok ? "yes" : "NO"}`);
} else {
  console.log("wasm-interp: not found (apt-get install wabt); the Node hash alone was compared");
  console.log(`hashes match: ${ok ? "yes" : "NO"} (without wasm-interp)`);
}
console.log(`files in ${out}`);
process.exit(ok ? 0 : 1);
