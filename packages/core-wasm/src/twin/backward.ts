// Scalar twins of the backward (training) kernels: the plainest loops from ABI.md's definitions, Math.fround after
// every operation, summing in the same order as the WebAssembly kernels so both agree bit for bit.
const f = Math.fround;

/**
 * dx = dL/dx of conv2d for dy = dL/dy (OIHW w). Each dx element sums from +0 over (ky, kx, co), co fastest, the
 * taps whose output position exists; dx is overwritten.
 */
export function conv2dBackwardInput(
  dy: Float32Array, w: Float32Array, dx: Float32Array,
  B: number, Cin: number, H: number, W: number, Cout: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number, groups: number,
): void {
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < Cin; c++) {
      const g = Math.floor(c / CinG);
      const ci = c - g * CinG;
      for (let iy = 0; iy < H; iy++) {
        for (let ix = 0; ix < W; ix++) {
          let acc = 0;
          for (let ky = 0; ky < kH; ky++) {
            for (let kx = 0; kx < kW; kx++) {
              // iy = oy*sH - pH + ky*dH, ix = ox*sW - pW + kx*dW
              const ty = iy + pH - ky * dH;
              const tx = ix + pW - kx * dW;
              if (ty < 0 || tx < 0 || ty % sH !== 0 || tx % sW !== 0) continue;
              const oy = ty / sH;
              const ox = tx / sW;
              if (oy >= Ho || ox >= Wo) continue;
              for (let k = 0; k < CoutG; k++) {
                const co = g * CoutG + k;
                acc = f(acc + f(w[((co * CinG + ci) * kH + ky) * kW + kx] * dy[((b * Cout + co) * Ho + oy) * Wo + ox]));
              }
            }
          }
          dx[((b * Cin + c) * H + iy) * W + ix] = acc;
        }
      }
    }
  }
}

/**
 * dw += dL/dw (OIHW). Each element's sum starts at +0 and runs over (b, oy, ox) ascending, in-range taps only,
 * skipping x == 0; it is then added to dw once.
 */
export function conv2dBackwardWeight(
  x: Float32Array, dy: Float32Array, dw: Float32Array,
  B: number, Cin: number, H: number, W: number, Cout: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number, groups: number,
): void {
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  for (let co = 0; co < Cout; co++) {
    const g = Math.floor(co / CoutG);
    for (let ci = 0; ci < CinG; ci++) {
      for (let ky = 0; ky < kH; ky++) {
        for (let kx = 0; kx < kW; kx++) {
          let acc = 0;
          for (let b = 0; b < B; b++) {
            for (let oy = 0; oy < Ho; oy++) {
              for (let ox = 0; ox < Wo; ox++) {
                const iy = oy * sH - pH + ky * dH;
                const ix = ox * sW - pW + kx * dW;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                const xv = x[((b * Cin + g * CinG + ci) * H + iy) * W + ix];
                if (xv === 0) continue;
                acc = f(acc + f(dy[((b * Cout + co) * Ho + oy) * Wo + ox] * xv));
              }
            }
          }
          const o = ((co * CinG + ci) * kH + ky) * kW + kx;
          dw[o] = f(dw[o] + acc);
        }
      }
    }
  }
}

/** db[c] += (sum from +0 over (b, p) ascending of dy[b, c, p]). */
export function biasBackward(dy: Float32Array, db: Float32Array, B: number, C: number, HW: number): void {
  for (let c = 0; c < C; c++) {
    let acc = 0;
    for (let b = 0; b < B; b++) for (let p = 0; p < HW; p++) acc = f(acc + dy[(b * C + c) * HW + p]);
    db[c] = f(db[c] + acc);
  }
}

/**
 * dx = dL/dx of pool2d: dx cleared, then each window (oy, ox ascending) adds to its in-range inputs: avg
 * fl(dy / (kH*kW)), sum dy; max adds dy to the first in-range input (row by row) that no later one exceeds.
 */
export function pool2dBackward(
  kind: number, x: Float32Array | null, dy: Float32Array, dx: Float32Array,
  B: number, C: number, H: number, W: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number,
): void {
  dx.fill(0, 0, B * C * H * W);
  for (let n = 0; n < B * C; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const g = dy[(n * Ho + oy) * Wo + ox];
        let best = -1;
        for (let ky = 0; ky < kH; ky++) {
          for (let kx = 0; kx < kW; kx++) {
            const iy = oy * sH - pH + ky;
            const ix = ox * sW - pW + kx;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const i = (n * H + iy) * W + ix;
            if (kind === 2) {
              if (best < 0 || x![i] > x![best]) best = i;
            } else {
              dx[i] = f(dx[i] + (kind === 0 ? f(g / (kH * kW)) : g));
            }
          }
        }
        if (kind === 2 && best >= 0) dx[best] = f(dx[best] + g);
      }
    }
  }
}

/**
 * dx = fl(dy*scale[c]) (dx null = skip); dscale[c] += (sum over (b, p) of fl(dy*x)); dshift[c] += (sum of dy);
 * each sum from +0 in order, added once (null = skip).
 */
export function affineBackward(
  x: Float32Array, dy: Float32Array, scale: Float32Array, dx: Float32Array | null,
  dscale: Float32Array | null, dshift: Float32Array | null, B: number, C: number, HW: number,
): void {
  for (let c = 0; c < C; c++) {
    let sS = 0;
    let sH = 0;
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const d = dy[i];
        sS = f(sS + f(d * x[i]));
        sH = f(sH + d);
        if (dx) dx[i] = f(d * scale[c]);
      }
    }
    if (dscale) dscale[c] = f(dscale[c] + sS);
    if (dshift) dshift[c] = f(dshift[c] + sH);
  }
}

/** dx = x > 0 ? dy : 0. */
export function reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
}

const LOG2E = f(1.4426950408889634);
const LN2HI = f(0.693145751953125);
const LN2LO = f(1.428606765330187e-6);
const EXP_C = [f(0.001388888888888889), f(0.008333333333333333), f(0.041666666666666664), f(0.16666666666666666), f(0.5), 1, 1];
const PI32 = f(Math.PI);
const bits = new Int32Array(1);
const bitsF = new Float32Array(bits.buffer);

/** The core's own e^x in f32 (see assembly/backward/neurons.ts): clamp, n = floor(x*log2e + 0.5), Taylor 6, 2^n. */
export function expCore(z: number): number {
  const x = Math.min(Math.max(z, -87), 88);
  const n = Math.floor(f(f(x * LOG2E) + 0.5));
  const r = f(f(x - f(n * LN2HI)) - f(n * LN2LO));
  let p = EXP_C[0];
  for (let k = 1; k < EXP_C.length; k++) p = f(f(p * r) + EXP_C[k]);
  bits[0] = (n + 127) << 23;
  return f(p * bitsF[0]);
}

/** The smooth surrogate's spike: fl(1 / fl(1 + expCore(fl(fl(u - thr) * -4)))). */
export function smoothSpike(u: number, thr: number): number {
  return f(1 / f(1 + expCore(f(f(u - thr) * -4))));
}

/**
 * Surrogate derivative sg(u) (ABI.md): 0 triangle, 1 atan (alpha 2), 2 fast-sigmoid (slope 25), 3 smooth (from the
 * step's spike s = sigmoid(4*(u - thr)): 4*s*(1 - s)).
 */
export function surrogate(kind: number, u: number, s: number, thr: number): number {
  if (kind === 0) return f(f(f(0.3) * Math.max(0, f(1 - Math.abs(f(f(u / thr) - 1))))) / thr);
  if (kind === 1) {
    const k = f(PI32 * f(u - thr));
    return f(1 / f(1 + f(k * k)));
  }
  if (kind === 2) {
    const a = f(1 + f(25 * Math.abs(f(u - thr))));
    return f(1 / f(a * a));
  }
  return f(f(4 * s) * f(1 - s));
}

/**
 * `lif` with resetDelay false that also writes u = fl(fl(beta*v) + I); the step spikes when u > cmp (as `lif`).
 * Surrogate 3 (smooth): s = smoothSpike(u, thr), subtract v = fl(u - fl(thr*s)), zero v = fl(u + fl(s*fl(vr - u))),
 * none v = u. Reset 3 (subtract with resetDelay true): s holds the previous spikes on entry,
 * v = u = fl(fl(fl(beta*v) + I) - fl(thr*s_prev)), then s from u.
 */
export function lifForwardTrain(
  I: Float32Array, s: Float32Array, v: Float32Array, u: Float32Array,
  beta: Float32Array, thr: Float32Array, cmp: Float32Array, vr: Float32Array,
  B: number, C: number, HW: number, perNeuron: number, reset: number, surrogateKind: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const k = perNeuron ? c * HW + p : c;
        if (reset === 3) {
          const ui = f(f(f(beta[k] * v[i]) + I[i]) - f(thr[k] * s[i]));
          s[i] = surrogateKind === 3 ? smoothSpike(ui, thr[k]) : ui > cmp[k] ? 1 : 0;
          u[i] = ui;
          v[i] = ui;
          continue;
        }
        const ui = f(f(beta[k] * v[i]) + I[i]);
        u[i] = ui;
        if (surrogateKind === 3) {
          const si = smoothSpike(ui, thr[k]);
          s[i] = si;
          if (reset === 0) v[i] = f(ui - f(thr[k] * si));
          else if (reset === 1) v[i] = f(ui + f(si * f(vr[k] - ui)));
          else v[i] = ui;
        } else {
          const si = ui > cmp[k] ? 1 : 0;
          s[i] = si;
          if (reset === 0) v[i] = f(ui - f(thr[k] * si));
          else if (reset === 1) v[i] = si !== 0 ? vr[k] : ui;
          else v[i] = ui;
        }
      }
    }
  }
}

/**
 * One LIF step back. du = fl(fl(ds*sg) + fl(gv*dvdu)) with dvdu = subtract: 1, kept fl(1 - fl(thr*sg)); zero:
 * fl(1 - s), kept fl(fl(1 - s) + fl(fl(vr - u)*sg)); none: 1. dI = du; gv = fl(beta*du); dbeta += (sum from +0 of
 * fl(du*vprev) over b, or over (b, p) for per-channel params). Reset 3 (subtract with resetDelay true, u = v_t):
 * du = fl(fl(ds*sg) + fl(gv*m)), m = beta or (kept) fl(beta - fl(thr*sg)); dI = du; gv = du; dbeta as above.
 */
export function lifBackward(
  ds: Float32Array, u: Float32Array, s: Float32Array, vprev: Float32Array, gv: Float32Array, dI: Float32Array,
  dbeta: Float32Array | null, beta: Float32Array, thr: Float32Array, vr: Float32Array,
  B: number, C: number, HW: number, perNeuron: number, reset: number, surrogateKind: number, keepReset: number,
): void {
  const perElement = perNeuron || HW === 1;
  const nParams = perElement ? C * HW : C;
  const acc = new Array<number>(nParams).fill(0);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const k = perElement ? c * HW + p : c;
        const sg = surrogate(surrogateKind, u[i], s[i], thr[k]);
        if (reset === 3) {
          const m = keepReset ? f(beta[k] - f(thr[k] * sg)) : beta[k];
          const g = f(f(ds[i] * sg) + f(gv[i] * m));
          const vp = vprev[i];
          dI[i] = g;
          gv[i] = g;
          acc[k] = f(acc[k] + f(g * vp));
          continue;
        }
        let dvdu = 1;
        if (reset === 0) {
          if (keepReset) dvdu = f(1 - f(thr[k] * sg));
        } else if (reset === 1) {
          dvdu = f(1 - s[i]);
          if (keepReset) dvdu = f(dvdu + f(f(vr[k] - u[i]) * sg));
        }
        const du = f(f(ds[i] * sg) + f(gv[i] * dvdu));
        const vp = vprev[i];
        dI[i] = du;
        gv[i] = f(beta[k] * du);
        acc[k] = f(acc[k] + f(du * vp));
      }
    }
  }
  if (dbeta) for (let k = 0; k < nParams; k++) dbeta[k] = f(dbeta[k] + acc[k]);
}

/** g = fl(dv + gv) (gv when dv is null); dI = g; gv = fl(beta*g); dbeta += (sum from +0 of fl(g*vprev)). */
export function liBackward(
  dv: Float32Array | null, gv: Float32Array, dI: Float32Array, vprev: Float32Array, dbeta: Float32Array | null,
  beta: Float32Array, B: number, C: number, HW: number, perNeuron: number,
): void {
  const perElement = perNeuron || HW === 1;
  const nParams = perElement ? C * HW : C;
  const acc = new Array<number>(nParams).fill(0);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const k = perElement ? c * HW + p : c;
        const g = dv ? f(dv[i] + gv[i]) : gv[i];
        const vp = vprev[i];
        dI[i] = g;
        gv[i] = f(beta[k] * g);
        acc[k] = f(acc[k] + f(g * vp));
      }
    }
  }
  if (dbeta) for (let k = 0; k < nParams; k++) dbeta[k] = f(dbeta[k] + acc[k]);
}
