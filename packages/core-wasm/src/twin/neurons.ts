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
 * (perNeuron 0) or C*HW (perNeuron 1). reset 0 subtract, 1 zero, 2 none. A neuron spikes when v > cmp (thr itself, or
 * `below(thr)` for a layer that fires at v >= thr); the subtract reset takes thr.
 */
export function lif(
  I: Float32Array, s: Float32Array, v: Float32Array, beta: Float32Array, thr: Float32Array, cmp: Float32Array,
  vr: Float32Array, B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < HW; p++) {
        const i = (b * C + c) * HW + p;
        const k = perNeuron ? c * HW + p : c;
        if (!resetDelay || reset === 2) {
          v[i] = f(f(beta[k] * v[i]) + I[i]);
          s[i] = v[i] > cmp[k] ? 1 : 0;
          if (reset === 0) v[i] = f(v[i] - f(thr[k] * s[i]));
          else if (reset === 1) v[i] = s[i] !== 0 ? vr[k] : v[i];
        } else {
          const prev = s[i];
          if (reset === 0) v[i] = f(f(f(beta[k] * v[i]) + I[i]) - f(thr[k] * prev));
          else v[i] = f(f(beta[k] * (prev !== 0 ? vr[k] : v[i])) + I[i]);
          s[i] = v[i] > cmp[k] ? 1 : 0;
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
  thr: Float32Array, cmp: Float32Array, vr: Float32Array, B: number, C: number, HW: number, perNeuron: number,
  reset: number, resetDelay: number,
): void {
  li(I, i, alpha, B, C, HW, perNeuron);
  lif(i, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, resetDelay);
}

/**
 * The largest float32 below `x` (x a finite float32; 0 and -0 give the negative denormal nearest zero), so that
 * `v >= x` is exactly `v > below(x)` for every float32 v: the `cmp` of a layer that fires at the threshold.
 */
export function below(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if (f[0] === 0) u[0] = 0x80000001;
  else u[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}
