// Static data (if any) ends at __heap_base; everything above it belongs to the JS side's arena. The arena never
// starts at 0 because a null pointer means "absent" (conv2d bias).
export function heap_base(): usize {
  const base = (__heap_base + 15) & ~(<usize>15);
  return base < 16 ? 16 : base;
}

// Byte address of element `i` of an f32/i32/u32 array at `p`.
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}
