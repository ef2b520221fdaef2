import { at } from "./memory";

// n contiguous elements; `perElement` params advance with the element, otherwise one value covers the run.
@inline function affineRun(perElement: bool, xp: usize, yp: usize, n: i32, sp: usize, hp: usize): void {
  const s0 = f32x4.splat(load<f32>(sp));
  const h0 = f32x4.splat(load<f32>(hp));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const s = perElement ? v128.load(at(sp, i)) : s0;
    const h = perElement ? v128.load(at(hp, i)) : h0;
    v128.store(at(yp, i), f32x4.add(f32x4.mul(v128.load(at(xp, i)), s), h));
  }
  for (; i < n; i++) {
    const s = load<f32>(perElement ? at(sp, i) : sp);
    const h = load<f32>(perElement ? at(hp, i) : hp);
    store<f32>(at(yp, i), load<f32>(at(xp, i)) * s + h);
  }
}

export function affine(x: usize, y: usize, scale: usize, shift: usize, B: i32, C: i32, HW: i32): void {
  if (HW == 1) {
    // Flat activity: a sample's row lines up with scale and shift element by element, so it vectorises over C.
    for (let b = 0; b < B; b++) affineRun(true, at(x, b * C), at(y, b * C), C, scale, shift);
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const o = (b * C + c) * HW;
      affineRun(false, at(x, o), at(y, o), HW, at(scale, c), at(shift, c));
    }
  }
}

export function relu(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.max(zero, v128.load(at(x, i))));
  for (; i < n; i++) store<f32>(at(y, i), max<f32>(0, load<f32>(at(x, i))));
}
