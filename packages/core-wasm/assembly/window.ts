// Clipping of a sliding window against the input edge. Taps outside the input read zero padding, and adding a zero
// product to a sum that started at +0 never changes it, so skipping them gives the same bits as adding them.

// First tap k with i0 + k*d >= 0.
@inline export function tapLo(i0: i32, d: i32): i32 {
  return i0 >= 0 ? 0 : (d - 1 - i0) / d;
}

// One past the last tap k < n with i0 + k*d < size.
@inline export function tapHi(i0: i32, d: i32, n: i32, size: i32): i32 {
  return i0 >= size ? 0 : min(n, (size - 1 - i0) / d + 1);
}
