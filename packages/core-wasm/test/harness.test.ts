import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addDataSegment, HARNESS_WASM, sleb, uleb } from '../scripts/harness.mjs';

/** scripts/harness.mjs's binary editing (issue 16): LEB128, and one more active data segment in a module. */
const sec = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

/** (func (export "get") (param i32) (result i32) local.get 0 i32.load) and a memory of `limits`; no data section. */
function tiny(limits: number[]): Uint8Array<ArrayBuffer> {
  const body = [0, 0x20, 0, 0x28, 2, 0, 0x0b];
  return Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...sec(1, [1, 0x60, 1, 0x7f, 1, 0x7f]),
    ...sec(3, [1, 0]),
    ...sec(5, [1, ...limits]),
    ...sec(7, [2, ...name('get'), 0, 0, ...name('mem'), 2, 0]),
    ...sec(10, [1, body.length, ...body]),
  ]);
}

describe('harness data segments', () => {
  it('encodes LEB128', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 1]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(0x100000)).toEqual([0x80, 0x80, 0xc0, 0]);
  });

  it('creates a data section and grows the memory to cover it', () => {
    const m = tiny([0, 1]);
    expect(WebAssembly.validate(m)).toBe(true);
    const payload = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const at = 3 * 65536 - 4; // across the end of page 3: the memory needs 4 pages
    const out = addDataSegment(m, payload, at);
    const i = new WebAssembly.Instance(new WebAssembly.Module(out), {}).exports as { get: (p: number) => number; mem: WebAssembly.Memory };
    expect(i.mem.buffer.byteLength).toBe(4 * 65536);
    expect(i.get(at) >>> 0).toBe(0x04030201);
    expect(i.get(at + 4) >>> 0).toBe(0x08070605);
    expect(i.get(0)).toBe(0);
  });

  it('refuses a memory whose maximum is too small', () => {
    expect(() => addDataSegment(tiny([1, 1, 2]), new Uint8Array(4), 2 * 65536)).toThrow(/maximum \(2 pages\)/);
    const ok = addDataSegment(tiny([1, 1, 3]), new Uint8Array(4), 2 * 65536);
    expect(WebAssembly.validate(ok)).toBe(true);
  });

  it.skipIf(!existsSync(HARNESS_WASM))('appends to harness.wasm, whose data count it bumps', () => {
    const h = new Uint8Array(readFileSync(HARNESS_WASM));
    const out = addDataSegment(h, new Uint8Array(100), 0x100000);
    expect(WebAssembly.validate(out)).toBe(true);
    // data count section (id 12), one byte: one more segment
    const dc = (b: Uint8Array): number => {
      let p = 8;
      while (p < b.length) {
        const id = b[p];
        let size = 0, s = 1, q = p + 1, x;
        do { x = b[q++]; size += (x & 0x7f) * s; s *= 128; } while (x & 0x80);
        if (id === 12) return b[q];
        p = q + size;
      }
      return -1;
    };
    expect(dc(out)).toBe(dc(h) + 1);
    const mem = new WebAssembly.Instance(new WebAssembly.Module(out), {}).exports.memory as WebAssembly.Memory;
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual(0x100000 + 100);
  });
});
