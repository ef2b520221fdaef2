import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy, type NpyData, type NpyDtype } from '../../src/formats/npy.js';
import { atOffset, CONFORMANCE, conformanceFile, inputError } from './helpers.js';

const F = 'a.npy';

/** A .npy file with any version, header text and data, for crafting broken files. */
function npy(header: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(data, prefix + text.length);
  return out;
}

const dict = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

function sample(dtype: NpyDtype, n: number): NpyData {
  const values = Array.from({ length: n }, (_, i) => i);
  switch (dtype) {
    case 'u1':
      return Uint8Array.from(values, (i) => (i * 37) % 256);
    case 'b1':
      return Uint8Array.from(values, (i) => (i % 3 === 0 ? 1 : 0));
    case 'i1':
      return Int8Array.from(values, (i) => ((i * 37) % 256) - 128);
    case 'i4':
      return Int32Array.from(values, (i) => i * 77777 - 2 ** 31);
    case 'f4':
      return Float32Array.from(values, (i) => i * 0.1 - 3);
    case 'f8':
      return Float64Array.from(values, (i) => Math.sqrt(i) - 1e-300);
  }
}

describe('writeNpy / readNpy', () => {
  const shapes = [[], [5], [2, 3], [2, 1, 3], [1, 2, 3, 2], [2, 1, 2, 1, 3], [3, 0, 2]];
  for (const dtype of ['u1', 'i1', 'b1', 'i4', 'f4', 'f8'] as const) {
    it(`round-trips ${dtype} of rank 0 to 5`, () => {
      for (const shape of shapes) {
        const data = sample(dtype, shape.reduce((n, d) => n * d, 1));
        const bytes = writeNpy(data, shape, dtype === 'b1' ? 'b1' : undefined);
        const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
        expect(headerEnd % 64).toBe(0);
        expect(bytes[headerEnd - 1]).toBe(0x0a);
        const back = readNpy(bytes, F);
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(shape);
        expect(back.data.constructor).toBe(data.constructor);
        expect(back.data).toEqual(data);
      }
    });
  }

  it('writes the header NumPy writes', () => {
    const bytes = writeNpy(Float32Array.of(1, 2, 3), [3]);
    const header = new TextDecoder().decode(bytes.subarray(10, 128));
    expect([...bytes.subarray(0, 10)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    expect(header).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`.padEnd(117) + '\n');
    expect(bytes.length).toBe(128 + 12);
    const scalar = writeNpy(new Uint8Array(1), []);
    expect(new TextDecoder().decode(scalar.subarray(10, 128))).toBe(
      `{'descr': '|u1', 'fortran_order': False, 'shape': (), }`.padEnd(117) + '\n',
    );
  });

  it('reproduces every conformance .npy byte for byte', () => {
    const files = readdirSync(`${CONFORMANCE}c01-lif-subtract`).filter((f) => f.endsWith('.npy'));
    expect(files.length).toBe(8);
    for (const name of files) {
      const bytes = conformanceFile(`c01-lif-subtract/${name}`);
      const { data, shape } = readNpy(bytes, name);
      // Buffer.equals, because a deep toEqual over half a megabyte takes seconds.
      expect(Buffer.from(writeNpy(data, shape)).equals(bytes), name).toBe(true);
    }
  });

  it('reads conformance arrays written by NumPy', () => {
    const spikes = readNpy(conformanceFile('c01-lif-subtract/input.npy'), F);
    expect(spikes.dtype).toBe('u1');
    expect(spikes.shape).toEqual([20, 1, 1, 28, 28]);
    expect([...spikes.data].reduce((s, v) => s + v, 0)).toBe(3055);
    const output = readNpy(conformanceFile('c01-lif-subtract/output.npy'), F);
    expect(output.dtype).toBe('f4');
    expect([...output.data]).toEqual([0, 0, 18, 0, 0, 0, 0, 0, 18, 12]);
  });

  it('views aligned data in place and copies misaligned data', () => {
    const bytes = writeNpy(Float64Array.of(1.5, -2.5), [2]);
    const inPlace = readNpy(bytes, F).data;
    expect(inPlace.buffer).toBe(bytes.buffer);
    for (const offset of [1, 2, 4, 5]) {
      const moved = atOffset(bytes, offset);
      const { data } = readNpy(moved, F);
      expect(data).toBeInstanceOf(Float64Array);
      expect(data.byteOffset % 8).toBe(0);
      expect([...data]).toEqual([1.5, -2.5]);
    }
    const f4 = readNpy(atOffset(writeNpy(Float32Array.of(7), [1]), 2), F).data;
    expect(f4.byteOffset % 4).toBe(0);
    expect([...f4]).toEqual([7]);
  });

  it('reads |b1 as 0/1 and accepts a byte order on single bytes', () => {
    const b = readNpy(npy(dict('|b1', '(3,)'), Uint8Array.of(0, 2, 1)), F);
    expect(b.data).toBeInstanceOf(Uint8Array);
    expect([...b.data]).toEqual([0, 1, 1]);
    expect(readNpy(npy(dict('<u1', '(1,)'), Uint8Array.of(200)), F).dtype).toBe('u1');
    expect([...readNpy(npy(dict('i1', '(1,)'), Uint8Array.of(255)), F).data]).toEqual([-1]);
  });

  it('reads format 2.0 and 3.0 headers and double quotes', () => {
    const data = new Uint8Array(Float32Array.of(0.5, 4).buffer);
    const v2 = readNpy(npy(`{"descr": "<f4", "fortran_order": False, "shape": (2,)}`, data, 2), F);
    expect([...v2.data]).toEqual([0.5, 4]);
    const v3 = readNpy(npy(`{'descr':'<f4','shape':(1, 2),'fortran_order':False}   \n`, data, 3), F);
    expect(v3.shape).toEqual([1, 2]);
  });
});

describe('readNpy errors', () => {
  const good = writeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]);
  const fail = (bytes: Uint8Array) => inputError(() => readNpy(bytes, F)).message;

  it('refuses a bad magic, a short file or an unknown version', () => {
    expect(fail(new TextEncoder().encode('PK\x03\x04 not numpy at all'))).toBe(
      'a.npy: not a .npy file (it is a ZIP archive (a PyTorch .pt checkpoint?))',
    );
    expect(fail(new TextEncoder().encode('no magic, not numpy at all'))).toBe('a.npy: not a .npy file (bad magic, expected \\x93NUMPY)');
    expect(fail(good.subarray(0, 9))).toContain('not a .npy file');
    const v4 = good.slice();
    v4[6] = 4;
    expect(fail(v4)).toBe('a.npy: .npy format version 4.0 is not supported (expected 1.0, 2.0 or 3.0)');
    expect(fail(npy('', new Uint8Array(0), 2).subarray(0, 11))).toBe(
      'a.npy: file is 11 bytes, too short for a .npy 2.0 header length',
    );
  });

  it('refuses a header length beyond the file', () => {
    expect(fail(good.subarray(0, 40))).toBe('a.npy: .npy header length 118 is larger than the 30 bytes that follow it');
    const huge = npy('', new Uint8Array(0), 2);
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(fail(huge)).toBe('a.npy: .npy header length 4294967295 is over the 10000-byte limit');
  });

  it('refuses truncated or overlong data', () => {
    expect(fail(good.subarray(0, good.length - 1))).toBe(
      'a.npy: .npy data is 15 bytes, expected 16 for shape (2, 2) of <f4',
    );
    expect(fail(good.subarray(0, 128))).toContain('.npy data is 0 bytes, expected 16');
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(fail(longer)).toContain('.npy data is 20 bytes, expected 16');
  });

  it('refuses Fortran order, big-endian and unsupported dtypes', () => {
    const data = new Uint8Array(8);
    expect(fail(npy(dict('<f4', '(2,)', 'True'), data))).toBe(
      'a.npy: .npy array is in Fortran order, expected C order (fortran_order: False)',
    );
    expect(fail(npy(dict('>f4', '(2,)'), data))).toBe(
      "a.npy: .npy dtype '>f4' is big-endian, expected little-endian '<f4'",
    );
    expect(fail(npy(dict('>f8', '(1,)'), data))).toContain("'>f8' is big-endian");
    for (const descr of ['<i8', '<f2', '<u2', 'O', '<c8', '=f4']) {
      expect(fail(npy(dict(descr, '(1,)'), data))).toBe(
        `a.npy: .npy dtype '${descr}' is not supported (expected one of |u1 |i1 |b1 <i4 <f4 <f8)`,
      );
    }
  });

  it('parses the header dict strictly', () => {
    const cases: [string, string][] = [
      ['not a dict', "not a valid dict: expected '{' at character 0"],
      ["{'descr': '<f4', 'fortran_order': False}", 'header has keys descr, fortran_order, expected descr, fortran_order, shape'],
      [dict('<f4', '(2,)').replace('}', "'extra': 1, }"), 'expected a string at character 65'],
      [dict('<f4', '(2,)').replace('}', "'x': 'y', }"), 'header has keys descr, fortran_order, shape, x, expected'],
      ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "key 'descr' repeated"],
      [dict('<f4', '(2, -1)'), 'expected a non-negative integer'],
      [dict('<f4', '[2]'), 'expected a string at character'],
      [dict('<f4', '(2,)') + 'x', 'unexpected text after the dict'],
      ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 'expected a string at character 34'],
      ["{'descr': 4, 'fortran_order': False, 'shape': (2,)}", 'expected a string at character 10'],
      ["{'descr': True, 'fortran_order': False, 'shape': (2,)}", 'header descr is true, expected a dtype string'],
      ["{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}", 'header fortran_order is "no", expected True or False'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': '2'}", 'header shape is "2", expected a tuple of integers'],
      ["{'descr': '<f4", 'unterminated string'],
      [`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}`, 'expected a string at character 10'],
    ];
    for (const [header, message] of cases) {
      expect(fail(npy(header, new Uint8Array(8)))).toContain(message);
    }
  });
});
