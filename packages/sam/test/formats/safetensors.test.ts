import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, readSafetensors, writeSafetensors } from '../../src/formats/safetensors.js';
import { atOffset, conformanceFile, container, inputError } from './helpers.js';

const F = 'm.safetensors';

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

/** A file whose first 8 bytes claim `length`, followed by `size` bytes of spaces. */
function claiming(length: bigint, size: number): Uint8Array {
  const bytes = new Uint8Array(8 + size).fill(0x20);
  new DataView(bytes.buffer).setBigUint64(0, length, true);
  return bytes;
}

describe('writeSafetensors / readSafetensors', () => {
  it('round-trips tensors of several dtypes and ranks, with metadata', () => {
    const f32 = Float32Array.of(1.5, -2, 3.25, 0, 1e-30, -7);
    const u8 = Uint8Array.of(0, 1, 255);
    const i8 = Int8Array.of(-128, 0, 127, -1);
    const f64 = Float64Array.of(Math.PI);
    const i32 = Int32Array.of(-5, 6);
    const f16 = Uint16Array.of(0x3c00, 0xc000);
    const bytes = writeSafetensors(
      [
        { name: 'a.weight', dtype: 'F32', shape: [2, 3], data: f32 },
        { name: 'u', dtype: 'U8', shape: [3], data: u8 },
        { name: 'i', dtype: 'I8', shape: [2, 1, 2], data: i8 },
        { name: 'scalar', dtype: 'F64', shape: [], data: f64 },
        { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
        { name: 'i32', dtype: 'I32', shape: [2], data: i32 },
        { name: 'half', dtype: 'F16', shape: [2], data: f16 },
      ],
      { spikelens: '{"x":1}', other: 'yes' },
    );
    const { tensors, metadata } = readSafetensors(bytes, F);
    expect(metadata).toEqual({ spikelens: '{"x":1}', other: 'yes' });
    expect([...tensors.keys()]).toEqual(['a.weight', 'u', 'i', 'scalar', 'empty', 'i32', 'half']);
    const a = tensors.get('a.weight')!;
    expect(a.dtype).toBe('F32');
    expect(a.shape).toEqual([2, 3]);
    expect(new Float32Array(a.data.slice().buffer)).toEqual(f32);
    expect([...tensors.get('u')!.data]).toEqual([0, 1, 255]);
    expect(new Int8Array(tensors.get('i')!.data.slice().buffer)).toEqual(i8);
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect(new Float64Array(tensors.get('scalar')!.data.slice().buffer)[0]).toBe(Math.PI);
    expect(tensors.get('empty')!.data.length).toBe(0);
    expect(new Int32Array(tensors.get('i32')!.data.slice().buffer)).toEqual(i32);
    expect([...tensors.get('half')!.data]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    // 24 + 3 + 4 + 8 + 0 + 8 + 4 data bytes.
    expect(bytes.length - 8 - headerLength(bytes)).toBe(51);
  });

  it('pads the header with spaces to a multiple of 8 bytes', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = writeSafetensors([{ name, dtype: 'U8', shape: [1], data: Uint8Array.of(9) }]);
      const n = headerLength(bytes);
      expect(n % 8).toBe(0);
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      expect(text.trimEnd()).toBe(`{"${name}":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`);
      expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
      expect(bytes[8 + n]).toBe(9);
    }
  });

  it('reads from bytes that do not start at offset 0 of their buffer', () => {
    const bytes = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.of(0.25, -4) }]);
    const { tensors } = readSafetensors(atOffset(bytes, 3), F);
    expect(new Float32Array(tensors.get('w')!.data.slice().buffer)).toEqual(Float32Array.of(0.25, -4));
  });

  it('refuses a name used twice and data of the wrong size', () => {
    const t = { name: 'w', dtype: 'F32', shape: [2], data: new Float32Array(2) } as const;
    expect(() => writeSafetensors([t, t])).toThrow('tensor name "w" is reserved or used twice');
    expect(() => writeSafetensors([{ ...t, shape: [3] }])).toThrow('has 8 bytes, expected 12');
  });

  it('reads a conformance model file', () => {
    const bytes = conformanceFile('c01-lif-subtract/model.safetensors');
    expect(headerLength(bytes)).toBe(1528);
    const { tensors, metadata } = readSafetensors(bytes, F);
    expect([...tensors.keys()]).toEqual(['conv1.weight', 'conv2.weight', 'fc.weight']);
    expect(tensors.get('conv2.weight')!.shape).toEqual([16, 8, 3, 3]);
    expect(tensors.get('fc.weight')!.data.length).toBe(10 * 576 * 4);
    expect(Object.keys(metadata!)).toEqual(['spikelens']);
    const w = new Float32Array(tensors.get('conv1.weight')!.data.slice().buffer);
    expect([...w.subarray(0, 4)]).toEqual([0.48828125, 0.5546875, 0.2734375, 0.4765625]);
  });
});

describe('readSafetensors errors', () => {
  const good = writeSafetensors(
    [
      { name: 'a', dtype: 'F32', shape: [4], data: new Float32Array(4) },
      { name: 'b', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) },
    ],
    { k: 'v' },
  );

  it('refuses a file shorter than the 8-byte length', () => {
    expect(inputError(() => readSafetensors(good.subarray(0, 5), F)).message).toBe(
      'm.safetensors: file is 5 bytes, shorter than the 8-byte safetensors header length',
    );
    expect(inputError(() => readSafetensors(new Uint8Array(0), F)).message).toContain('file is 0 bytes');
  });

  it('refuses the file cut at any point', () => {
    const n = headerLength(good);
    for (const cut of [8, 9, 8 + n - 1]) {
      expect(inputError(() => readSafetensors(good.subarray(0, cut), F)).message).toBe(
        `m.safetensors: safetensors header length ${n} is larger than the ${cut - 8} bytes that follow it`,
      );
    }
    expect(inputError(() => readSafetensors(good.subarray(0, 8 + n), F)).message).toBe(
      'm.safetensors: tensor "a" field "data_offsets": [0,16] runs past the end of the 0 data bytes',
    );
    expect(inputError(() => readSafetensors(good.subarray(0, good.length - 1), F)).message).toBe(
      'm.safetensors: tensor "b" field "data_offsets": [16,32] runs past the end of the 31 data bytes',
    );
    expect(readSafetensors(good, F).tensors.size).toBe(2);
  });

  it('compares header lengths beyond 2^53 exactly', () => {
    expect(inputError(() => readSafetensors(claiming(2n ** 60n, 16), F)).message).toBe(
      'm.safetensors: safetensors header length 1152921504606846976 is larger than the 16 bytes that follow it',
    );
    expect(inputError(() => readSafetensors(claiming(2n ** 53n + 1n, 16), F)).message).toContain(
      'header length 9007199254740993 is larger',
    );
    expect(inputError(() => readSafetensors(claiming(2n ** 64n - 1n, 0), F)).message).toContain(
      'header length 18446744073709551615 is larger than the 0 bytes',
    );
  });

  it('refuses a header over 100 MB even when the file is that large', () => {
    const bytes = claiming(BigInt(MAX_HEADER_BYTES + 1), MAX_HEADER_BYTES + 8);
    expect(inputError(() => readSafetensors(bytes, F)).message).toBe(
      'm.safetensors: safetensors header length 100000001 is over the 100000000-byte limit',
    );
  });

  it('refuses a header that is not UTF-8, not JSON or not an object', () => {
    const notUtf8 = container('{}');
    notUtf8[9] = 0xff;
    expect(inputError(() => readSafetensors(notUtf8, F)).message).toBe('m.safetensors: safetensors header is not valid UTF-8');
    const badJson = inputError(() => readSafetensors(container('{"a": '), F)).message;
    expect(badJson).toMatch(/^m\.safetensors: safetensors header is not valid JSON \(.+\)$/);
    expect(inputError(() => readSafetensors(container('[1,2]'), F)).message).toBe(
      'm.safetensors: safetensors header is [1,2], expected a JSON object',
    );
    expect(inputError(() => readSafetensors(container('null'), F)).message).toContain('header is null, expected');
  });

  it('checks every entry', () => {
    const data = new Uint8Array(16);
    const entry = (e: object) => container({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16], ...e } }, data);
    const cases: [object, string][] = [
      [{ dtype: 'F33' }, 'tensor "t" field "dtype": "F33" is not a known dtype (F64, F32, F16, BF16,'],
      [{ dtype: undefined }, 'tensor "t" field "dtype": missing is not a known dtype'],
      [{ shape: [4, -1] }, 'tensor "t" field "shape": [4,-1] is not a list of non-negative integers'],
      [{ shape: [2.5] }, 'tensor "t" field "shape": [2.5] is not a list'],
      [{ shape: '4' }, 'tensor "t" field "shape": "4" is not a list'],
      [{ data_offsets: [0] }, 'tensor "t" field "data_offsets": [0] is not a pair [begin, end]'],
      [{ data_offsets: [8, 4] }, 'tensor "t" field "data_offsets": [8,4] ends before it begins'],
      [{ data_offsets: [0, 20] }, 'tensor "t" field "data_offsets": [0,20] runs past the end of the 16 data bytes'],
      [{ data_offsets: [0, 12] }, 'tensor "t" field "data_offsets": [0,12] spans 12 bytes, expected 16 for shape [4] of F32'],
      [{ dtype: 'F64' }, 'tensor "t" field "data_offsets": [0,16] spans 16 bytes, expected 32 for shape [4] of F64'],
      [{ shape: [2, 3] }, 'tensor "t" field "data_offsets": [0,16] spans 16 bytes, expected 24 for shape [2,3] of F32'],
    ];
    for (const [change, message] of cases) {
      expect(inputError(() => readSafetensors(entry(change), F)).message).toContain(`m.safetensors: ${message}`);
    }
    expect(inputError(() => readSafetensors(container({ t: 5 }), F)).message).toBe(
      'm.safetensors: tensor "t" is 5, expected an object with dtype, shape and data_offsets',
    );
  });

  it('refuses tensors whose bytes overlap', () => {
    const header = {
      a: { dtype: 'U8', shape: [8], data_offsets: [0, 8] },
      z: { dtype: 'U8', shape: [0], data_offsets: [4, 4] },
      b: { dtype: 'U8', shape: [4], data_offsets: [6, 10] },
    };
    expect(inputError(() => readSafetensors(container(header, new Uint8Array(10)), F)).message).toBe(
      'm.safetensors: tensor "b" field "data_offsets": bytes [6,10] overlap tensor "a" [0,8]',
    );
    // Gaps and empty tensors are harmless.
    const gapped = { a: header.a, z: header.z, b: { ...header.b, data_offsets: [9, 13] } };
    expect(readSafetensors(container(gapped, new Uint8Array(13)), F).tensors.size).toBe(3);
  });

  it('requires string metadata values', () => {
    expect(inputError(() => readSafetensors(container({ __metadata__: { spikelens: 3 } }), F)).message).toBe(
      'm.safetensors: "__metadata__" key "spikelens" is 3, expected a string',
    );
    expect(inputError(() => readSafetensors(container({ __metadata__: ['x'] }), F)).message).toBe(
      'm.safetensors: "__metadata__" is ["x"], expected an object of strings',
    );
    expect(readSafetensors(container({ __metadata__: null }), F).metadata).toBeNull();
    const proto = readSafetensors(container('{"__metadata__": {"__proto__": "x", "k": "v"}}'), F).metadata!;
    expect(Object.keys(proto)).toEqual(['__proto__', 'k']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });
});
