const f = Math.fround;

/** y = fl(fl(x*scale[c]) + shift[c]); y may be x. */
export function affine(
  x: Float32Array, y: Float32Array, scale: Float32Array, shift: Float32Array, B: number, C: number, HW: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        y[i] = f(f(x[i] * scale[c]) + shift[c]);
      }
    }
  }
}

/** y = max(0, x). */
export function relu(x: Float32Array, y: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) y[i] = Math.max(0, x[i]);
}

/**
 * One LIF step, docs/semantics.md §3. s holds the previous step's spikes on entry and this step's on exit. Params have C values
 * (perNeuron 0) or C*HW (perNeuron 1). reset 0 subtract, 1 zero, 2 none.
 */
export function lif(
  I: Float32Array, s: Float32Array, v: Float32Array, beta: Float32Array, thr: Float32Array, vr: Float32Array,
  B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const k = perNeuron ? c * HW + p : c;
        if (!resetDelay || reset === 2) {
          v[i] = f(f(beta[k] * v[i]) + I[i]);
          s[i] = v[i] > thr[k] ? 1 : 0;
          if (reset === 0) v[i] = f(v[i] - f(thr[k] * s[i]));
          else if (reset === 1) v[i] = s[i] !== 0 ? vr[k] : v[i];
        } else {
          const prev = s[i];
          if (reset === 0) v[i] = f(f(f(beta[k] * v[i]) + I[i]) - f(thr[k] * prev));
          else v[i] = f(f(beta[k] * (prev !== 0 ? vr[k] : v[i])) + I[i]);
          s[i] = v[i] > thr[k] ? 1 : 0;
        }
      }
    }
  }
}

/** v = fl(fl(beta*v) + I). */
export function li(
  I: Float32Array, v: Float32Array, beta: Float32Array, B: number, C: number, HW: number, perNeuron: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        v[i] = f(f(beta[perNeuron ? c * HW + p : c] * v[i]) + I[i]);
      }
    }
  }
}

/** `i = fl(fl(alpha*i) + I)`, then `lif` with input `i` (the core's `cubalif`). */
export function cubalif(
  I: Float32Array, i: Float32Array, s: Float32Array, v: Float32Array, alpha: Float32Array, beta: Float32Array,
  thr: Float32Array, vr: Float32Array, B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
): void {
  li(I, i, alpha, B, C, HW, perNeuron);
  lif(i, s, v, beta, thr, vr, B, C, HW, perNeuron, reset, resetDelay);
}
