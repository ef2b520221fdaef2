// The WebAssembly f32x4 peak the dense path is measured against (BENCHMARKS.md): independent chains of f32x4 mul
// and f32x4 add that live in registers, no memory traffic. Five multiply chains and five add chains (plus the two
// operands) fit the 15 xmm registers V8 allocates, and hide the 3-4 cycle latency of each pipe. m and c are
// arguments so no compiler can fold the work away. Each iteration is 10 vector ops = 40 flops.
// Returns the sum of lane 0 of all ten chains (each chain starts at x0): a result the test can predict.
export function simd_peak(n: i32, x0: f32, m: f32, c: f32): f32 {
  const mv = f32x4.splat(m);
  const cv = f32x4.splat(c);
  let a0 = f32x4.splat(x0), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
  let b0 = a0, b1 = a0, b2 = a0, b3 = a0, b4 = a0;
  for (let i = 0; i < n; i++) {
    a0 = f32x4.mul(a0, mv);
    b0 = f32x4.add(b0, cv);
    a1 = f32x4.mul(a1, mv);
    b1 = f32x4.add(b1, cv);
    a2 = f32x4.mul(a2, mv);
    b2 = f32x4.add(b2, cv);
    a3 = f32x4.mul(a3, mv);
    b3 = f32x4.add(b3, cv);
    a4 = f32x4.mul(a4, mv);
    b4 = f32x4.add(b4, cv);
  }
  const a = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), a4);
  const b = f32x4.add(f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), b4);
  return f32x4.extract_lane(f32x4.add(a, b), 0);
}

// The gather ceiling each layer's synaptic operations are held against (BENCHMARKS.md): the event conv's inner loop
// alone. One list of n active inputs (byte offsets of 64-byte weight rows of a panel, as the combined list holds them)
// is summed into 6 f32x4 accumulators (24 output channels: 4 vectors from a row of one panel, 2 from the same row of
// the next, `ps` bytes on) `reps` times: 24 synaptic operations an entry. Returns lane 0 of the accumulators' sum.
export function gather_peak(w: usize, ps: usize, list: usize, n: i32, reps: i32): f32 {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero;
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < n; k++) {
      const wq = w + <usize>load<i32>(list + (<usize>k << 2));
      const wr = wq + ps;
      a0 = f32x4.add(a0, v128.load(wq));
      a1 = f32x4.add(a1, v128.load(wq, 16));
      a2 = f32x4.add(a2, v128.load(wq, 32));
      a3 = f32x4.add(a3, v128.load(wq, 48));
      a4 = f32x4.add(a4, v128.load(wr));
      a5 = f32x4.add(a5, v128.load(wr, 16));
    }
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(a4, a5));
  return f32x4.extract_lane(s, 0);
}
