const f = Math.fround;

/**
 * One SAM step, docs/semantics.md §8. mode 0 inclusive N = g*N + S; 1 strict N = g*(N_prev + S_prev), kept as nc = the inclusive
 * trace A so that N = g*A_prev; 2 official N = g*N + (S ? 1 : silent). m[b, p] = sum over k ascending of N*S.
 */
export function samStep(
  s: Float32Array, nc: Float32Array, m: Float32Array, B: number, C: number, HW: number,
  g: number, mode: number, silent: number,
): void {
  const gf = f(g);
  const quiet = f(silent);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < HW; p++) {
      let acc = 0;
      for (let k = 0; k < C; k++) {
        const i = (b * C + k) * HW + p;
        let N: number;
        if (mode === 1) {
          N = f(gf * nc[i]);
          nc[i] = f(N + s[i]);
        } else {
          N = f(f(gf * nc[i]) + (mode === 0 ? s[i] : s[i] !== 0 ? 1 : quiet));
          nc[i] = N;
        }
        acc = f(acc + f(N * s[i]));
      }
      m[b * HW + p] = acc;
    }
  }
}
