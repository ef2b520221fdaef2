// Backpropagation through time on a small network, checked against central finite differences of a float64 copy
// of the same network. Forward: the float32 twins (conv2d, affine, lifForwardTrain with the smooth surrogate,
// pool2d, linear as a 1x1 conv2d, li); backward: the core's kernels, called as a training loop calls them.
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { Arena } from "./arena.js";
import { normals, random, uniforms } from "./util.js";

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

// x[T][B, Cin, H, W] -> conv 3x3 p1 (+bias) -> affine -> lif (smooth) -> avgpool 2x2 -> flatten -> linear (+bias)
// -> li, T steps; L = sum over t of sum(c_t * o_t), o_t the li membrane.
const T = 4, B = 2, Cin = 2, H = 6, W = 6, C = 3, K = 4;
const Hp = H / 2, Wp = W / 2, F = C * Hp * Wp;
const HW = H * W;

interface Params {
  wc: Float32Array; bc: Float32Array; scale: Float32Array; shift: Float32Array;
  beta: Float32Array; thr: Float32Array; vr: Float32Array;
  wf: Float32Array; bf: Float32Array; betaO: Float32Array;
}

function makeParams(seed: number): { p: Params; xs: Float32Array[]; cs: Float32Array[] } {
  const r = random(seed);
  const p: Params = {
    wc: normals(r, C * Cin * 9, 0.35), bc: normals(r, C, 0.2),
    scale: uniforms(r, C, 0.8, 1.3), shift: uniforms(r, C, 0.1, 0.5),
    beta: uniforms(r, C, 0.6, 0.9), thr: uniforms(r, C, 0.8, 1.2), vr: uniforms(r, C, -0.2, 0.2),
    wf: normals(r, K * F, 0.4), bf: normals(r, K, 0.2), betaO: uniforms(r, K, 0.7, 0.95),
  };
  const xs = Array.from({ length: T }, () => uniforms(r, B * Cin * HW, 0, 1));
  const cs = Array.from({ length: T }, () => normals(r, B * K));
  return { p, xs, cs };
}

type Vec = ArrayLike<number>;
type Params64 = { [k in keyof Params]: Vec };

/** The network in float64 with the exact sigmoid: the loss only. */
function loss64(p: Params64, xs: Vec[], cs: Vec[], reset: number): number {
  const v = new Float64Array(B * C * HW);
  for (let i = 0; i < v.length; i++) v[i] = 0;
  const o = new Float64Array(B * K);
  let L = 0;
  for (let t = 0; t < T; t++) {
    const x = xs[t];
    const s = new Float64Array(B * C * HW);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          for (let xx = 0; xx < W; xx++) {
            let a = 0;
            for (let ci = 0; ci < Cin; ci++) {
              for (let ky = 0; ky < 3; ky++) {
                for (let kx = 0; kx < 3; kx++) {
                  const iy = y - 1 + ky, ix = xx - 1 + kx;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  a += p.wc[((c * Cin + ci) * 3 + ky) * 3 + kx] * x[((b * Cin + ci) * H + iy) * W + ix];
                }
              }
            }
            a += p.bc[c];
            const z = a * p.scale[c] + p.shift[c];
            const i = ((b * C + c) * H + y) * W + xx;
            const u = p.beta[c] * v[i] + z;
            const sp = 1 / (1 + Math.exp(-4 * (u - p.thr[c])));
            s[i] = sp;
            v[i] = reset === 0 ? u - p.thr[c] * sp : u + sp * (p.vr[c] - u);
          }
        }
      }
    }
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        let y = p.bf[k];
        for (let c = 0; c < C; c++) {
          for (let py = 0; py < Hp; py++) {
            for (let px = 0; px < Wp; px++) {
              let m = 0;
              for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m += s[((b * C + c) * H + 2 * py + dy) * W + 2 * px + dx];
              y += p.wf[k * F + (c * Hp + py) * Wp + px] * (m / 4);
            }
          }
        }
        o[b * K + k] = p.betaO[k] * o[b * K + k] + y;
        L += cs[t][b * K + k] * o[b * K + k];
      }
    }
  }
  return L;
}

interface Grads { wc: Float32Array; bc: Float32Array; scale: Float32Array; shift: Float32Array; beta: Float32Array; wf: Float32Array; bf: Float32Array; betaO: Float32Array; xs: Float32Array[] }

/** float32 forward with the twins, recording each step; backward through time with the core's kernels. */
function gradients(p: Params, xs: Float32Array[], cs: Float32Array[], reset: number, keepReset: number): Grads {
  const e = core.exports;
  const n = B * C * HW;
  const rec: { a: Float32Array; u: Float32Array; s: Float32Array; vprev: Float32Array; pool: Float32Array; oprev: Float32Array }[] = [];
  const v = new Float32Array(n), sp = new Float32Array(n), o = new Float32Array(B * K);
  for (let t = 0; t < T; t++) {
    const a = new Float32Array(n);
    twin.conv2d(xs[t], p.wc, p.bc, a, B, Cin, H, W, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    const z = new Float32Array(n);
    twin.affine(a, z, p.scale, p.shift, B, C, HW);
    const vprev = v.slice();
    const u = new Float32Array(n);
    twin.lifForwardTrain(z, sp, v, u, p.beta, p.thr, p.thr, p.vr, B, C, HW, 0, reset, 3);
    const pool = new Float32Array(B * F);
    twin.pool2d(0, sp, pool, B, C, H, W, Hp, Wp, 2, 2, 2, 2, 0, 0);
    const y = new Float32Array(B * K);
    twin.conv2d(pool, p.wf, p.bf, y, B, F, 1, 1, K, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    const oprev = o.slice();
    twin.li(y, o, p.betaO, B, K, 1, 0);
    rec.push({ a, u, s: sp.slice(), vprev, pool, oprev });
  }

  arena.reset();
  const zeros = (len: number) => arena.f32(new Float32Array(len));
  const g = {
    wc: zeros(p.wc.length), bc: zeros(C), scale: zeros(C), shift: zeros(C), beta: zeros(C),
    wf: zeros(p.wf.length), bf: zeros(K), betaO: zeros(K),
  };
  const P = {
    wc: arena.f32(p.wc), scale: arena.f32(p.scale), beta: arena.f32(p.beta), thr: arena.f32(p.thr), vr: arena.f32(p.vr),
    wf: arena.f32(p.wf), betaO: arena.f32(p.betaO),
  };
  const gvO = zeros(B * K), gv = zeros(n);
  const dy = arena.f32(B * K), dpool = arena.f32(B * F), ds = arena.f32(n), dI = arena.f32(n), da = arena.f32(n);
  const dx = arena.f32(B * Cin * HW);
  const cbuf = arena.f32(B * K), obuf = arena.f32(B * K), poolb = arena.f32(B * F);
  const ub = arena.f32(n), sb = arena.f32(n), vpb = arena.f32(n), ab = arena.f32(n), xb = arena.f32(B * Cin * HW);
  const put = (ptr: number, data: Float32Array) => new Float32Array(core.memory.buffer, ptr, data.length).set(data);
  const dxs: Float32Array[] = [];
  for (let t = T - 1; t >= 0; t--) {
    const r = rec[t];
    put(cbuf, cs[t]);
    put(obuf, r.oprev);
    e.li_backward(cbuf, gvO, dy, obuf, g.betaO, P.betaO, B, K, 1, 0);
    e.bias_backward(dy, g.bf, B, K, 1);
    put(poolb, r.pool);
    e.conv2d_backward_weight(poolb, dy, g.wf, B, F, 1, 1, K, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    e.conv2d_backward_input(dy, P.wf, dpool, B, F, 1, 1, K, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1);
    e.pool2d_backward(0, 0, dpool, ds, B, C, H, W, Hp, Wp, 2, 2, 2, 2, 0, 0);
    put(ub, r.u);
    put(sb, r.s);
    put(vpb, r.vprev);
    e.lif_backward(ds, ub, sb, vpb, gv, dI, g.beta, P.beta, P.thr, P.vr, B, C, HW, 0, reset, 3, keepReset);
    put(ab, r.a);
    e.affine_backward(ab, dI, P.scale, da, g.scale, g.shift, B, C, HW);
    e.bias_backward(da, g.bc, B, C, HW);
    put(xb, xs[t]);
    e.conv2d_backward_weight(xb, da, g.wc, B, Cin, H, W, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    e.conv2d_backward_input(da, P.wc, dx, B, Cin, H, W, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    dxs[t] = arena.readF32(dx, B * Cin * HW);
  }
  arena.checkGuards();
  const read = (ptr: number, len: number) => arena.readF32(ptr, len);
  return {
    wc: read(g.wc, p.wc.length), bc: read(g.bc, C), scale: read(g.scale, C), shift: read(g.shift, C), beta: read(g.beta, C),
    wf: read(g.wf, p.wf.length), bf: read(g.bf, K), betaO: read(g.betaO, K), xs: dxs,
  };
}

/** Largest |grad - fd| / (|fd| + 0.02 * max|fd| of the tensor) over the checked entries. */
function worst(p: Params, xs: Float32Array[], cs: Float32Array[], reset: number, g: Grads, rand: () => number): Record<string, number> {
  const h = 1e-5;
  // Central difference in float64: the tensor is replaced by a float64 copy with one entry moved by +-h.
  const fdOf = (arr: Float32Array, i: number) => {
    const run = (delta: number) => {
      const copy = Float64Array.from(arr);
      copy[i] += delta;
      const q = Object.fromEntries(Object.entries(p).map(([k, val]) => [k, val === arr ? copy : val])) as unknown as Params64;
      return loss64(q, xs.map((x) => (x === arr ? copy : x)), cs, reset);
    };
    return (run(h) - run(-h)) / (2 * h);
  };
  const tensors: [string, Float32Array, Float32Array, number[]][] = [
    ["conv weight", p.wc, g.wc, [...p.wc.keys()]],
    ["conv bias", p.bc, g.bc, [...p.bc.keys()]],
    ["affine scale", p.scale, g.scale, [...p.scale.keys()]],
    ["affine shift", p.shift, g.shift, [...p.shift.keys()]],
    ["lif beta", p.beta, g.beta, [...p.beta.keys()]],
    ["linear weight", p.wf, g.wf, Array.from({ length: 24 }, () => Math.floor(rand() * p.wf.length))],
    ["linear bias", p.bf, g.bf, [...p.bf.keys()]],
    ["li beta", p.betaO, g.betaO, [...p.betaO.keys()]],
    ...xs.map((x, t): [string, Float32Array, Float32Array, number[]] => [
      `input step ${t}`, x, g.xs[t], Array.from({ length: 20 }, () => Math.floor(rand() * x.length)),
    ]),
  ];
  const out: Record<string, number> = {};
  for (const [name, arr, grad, idx] of tensors) {
    const fds = idx.map((i) => fdOf(arr, i));
    const scale = Math.max(...fds.map(Math.abs));
    let w = 0;
    idx.forEach((i, k) => {
      w = Math.max(w, Math.abs(grad[i] - fds[k]) / (Math.abs(fds[k]) + 0.02 * scale + 1e-12));
    });
    out[name] = w;
  }
  return out;
}

describe("backpropagation through time (conv, affine, smooth lif, avgpool, linear, li)", () => {
  for (const [reset, label] of [[0, "subtract"], [1, "zero"]] as const) {
    it(`matches central differences of a float64 copy of the network, reset ${label}, reset kept in the graph`, () => {
      for (const seed of [1, 2]) {
        const { p, xs, cs } = makeParams(seed * 7 + reset);
        const g = gradients(p, xs, cs, reset, 1);
        const err = worst(p, xs, cs, reset, g, random(seed));
        for (const [name, e] of Object.entries(err)) expect(e, `${name} (seed ${seed})`).toBeLessThan(2e-3);
        // The check can fail: detaching the reset (keepReset 0) leaves the true gradient.
        const detached = worst(p, xs, cs, reset, gradients(p, xs, cs, reset, 0), random(seed));
        expect(Math.max(detached["conv weight"], detached["lif beta"], detached["input step 0"])).toBeGreaterThan(2e-2);
      }
    });
  }
});
