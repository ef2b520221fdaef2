// .npy inputs: valid batches and spike trains of every accepted kind, and headers, versions and data mutated.
import fc from 'fast-check';
import { concat, npy, npyDict, npyRaw } from './formats.mjs';
import { few, frac, idx } from './values.mjs';

const DESCRS = ['<f4', '<f8', '|u1', '|i1', '|b1'];
const WEIRD_DESCRS = ['>f4', '<f2', '<i4', '<u2', '<c8', '|O', '<U10', '<M8[s]', '|V4', 'f4', 'float32', '', "<f4', 'x': '1", '<f4\\'];

/** Shapes against a model input `S` ([C,H,W] or [N]). */
const shapeFor = (S) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(1, 2, 3, 7).map((B) => [B, ...S]) },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(1, 2, 20, 100), fc.constantFrom(1, 2)).map(([T, B]) => [T, B, ...S]) },
    {
      weight: 2,
      arbitrary: fc.constantFrom([], [0], [0, ...S], [1, ...S.slice(1)], [1, ...S, 1], [0, 1, ...S], [1, 0, ...S], [2000000000, ...S], [100001, 1, ...S], [1, 2 ** 31, ...S], Array(3000).fill(1), Array(33).fill(1), [1, ...S.map((d) => d + 1)], [2 ** 53, ...S], [-1, ...S]),
    },
  );

const elementFill = fc.constantFrom('zeros', 'ones', 'ramp', 'nan-at-5', 'inf-last', 'twos', 'minus-ones', 'huge');

const fillFn = (kind, descr) => {
  switch (kind) {
    case 'zeros':
      return () => 0;
    case 'ones':
      return () => 1;
    case 'ramp':
      return (i) => (descr === '|i1' ? (i % 3) - 1 : descr === '|u1' || descr === '|b1' ? i % 2 : i % 256);
    case 'nan-at-5':
      return (i) => (i === 5 ? NaN : 0.5);
    case 'inf-last':
      return (i) => (i === 0 ? Infinity : 1);
    case 'twos':
      return () => 2;
    case 'minus-ones':
      return () => -1;
    default:
      return () => 3e38;
  }
};

/** A header dict text edit. */
const dictEdit = fc.oneof(
  fc.constantFrom(...WEIRD_DESCRS).map((d) => ({ what: `descr ${JSON.stringify(d)}`, f: (s) => s.replace(/'descr': '[^']*'/, `'descr': '${d}'`) })),
  fc.constantFrom('True', 'None', '1', "'x'").map((v) => ({ what: `fortran_order ${v}`, f: (s) => s.replace(/'fortran_order': \w+/, `'fortran_order': ${v}`) })),
  fc.constantFrom('(', '()', '(1.5,)', "('a',)", '(-1, 1, 28, 28)', '(1, 1, 28, 28', 'None', '[1, 1, 28, 28]', '(99999999999999999999999,)', `(${Array(3000).fill('1').join(', ')})`, '(1,,)', '(0x10,)', '(1e3,)', '(True,)', `(${'('.repeat(1000)}1${')'.repeat(1000)},)`)
    .map((v) => ({ what: `shape ${v.length > 40 ? v.slice(0, 30) + '...' : v}`, f: (s) => s.replace(/'shape': \([^)]*\)/, `'shape': ${v}`) })),
  fc.constantFrom("'extra': 1, ", "'descr': '<f8', ", '', "'shape': (1,), ").map((v) => ({ what: `insert ${JSON.stringify(v)}`, f: (s) => s.replace('{', '{' + v) })),
  fc.constantFrom("'descr'", "'shape'", "'fortran_order'").map((k) => ({ what: `remove ${k}`, f: (s) => s.replace(new RegExp(`${k}: ('[^']*'|\\([^)]*\\)|\\w+), `), '') })),
  idx.map((n) => ({ what: `cut dict at ${n}`, f: (s) => s.slice(0, n % s.length) })),
  fc.tuple(idx, fc.constantFrom('{', '}', "'", '(', ')', ',', ':', '\\', '\u0000', '\u00e9', '\n')).map(([n, c]) => ({ what: `dict char ${n} := ${JSON.stringify(c)}`, f: (s) => { const i = n % s.length; return s.slice(0, i) + c + s.slice(i + 1); } })),
  fc.constant({ what: 'dict is a list', f: () => '[1, 2, 3]' }),
  fc.constant({ what: 'dict 20000 chars long', f: (s) => s.replace('}', ' '.repeat(20000) + '}') }),
  fc.constant({ what: 'dict nested 10000 deep', f: (s) => s.replace("'descr'", `'x': ${'{'.repeat(10000)}${'}'.repeat(10000)}, 'descr'`) }),
);

/** One change to a .npy beyond its dtype and shape. */
const npyOp = fc.oneof(
  { weight: 4, arbitrary: dictEdit.map((d) => ({ dict: d, what: d.what })) },
  { weight: 1, arbitrary: fc.constantFrom([0, 0], [4, 0], [1, 1], [2, 255], [255, 255]).map((v) => ({ version: v, what: `version ${v.join('.')}` })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 9, 65535, 2 ** 31, 2 ** 32 - 1, 10001).map((n) => ({ headerLength: n, what: `header length ${n}` })) },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: 0, max: 12 }), frac).map((x) => ({ cut: x, what: `cut at ${x}` })) },
  { weight: 1, arbitrary: fc.constantFrom(1, 3, 1000).map((n) => ({ extra: n, what: `${n} extra bytes` })) },
  { weight: 1, arbitrary: fc.constantFrom([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x58], [0, 0, 0, 0, 0, 0], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]).map((m) => ({ magic: m, what: 'bad magic' })) },
);

export const npyFor = (S) =>
  fc
    .record({
      descr: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...DESCRS) }, { weight: 1, arbitrary: fc.constantFrom(...WEIRD_DESCRS) }),
      shape: shapeFor(S),
      fill: elementFill,
      version: fc.constantFrom([1, 0], [1, 0], [2, 0], [3, 0]),
      ops: few(npyOp, 3, 0),
    })
    .map((r) => {
      const n = r.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ? r.shape.reduce((a, b) => a * b, 1) : 0;
      const what = [`npy ${r.descr} [${r.shape.length > 8 ? `${r.shape.length} dims` : r.shape.join(',')}] ${r.fill} v${r.version.join('.')}`, ...r.ops.map((o) => o.what)];
      return {
        what,
        build: () => {
          const item = { '<f4': 4, '<f8': 8 }[r.descr] ?? 1;
          // Never write more than 4 MB of data: a claimed shape beyond that keeps its header and gets a little data.
          const count = n * item <= 4e6 ? n : 16;
          let dict = npyDict(r.descr, r.shape.map((d) => String(BigInt(Math.trunc(d)))));
          for (const o of r.ops) if (o.dict) dict = o.dict.f(dict);
          const Arr = { '<f4': Float32Array, '<f8': Float64Array, '|i1': Int8Array }[r.descr] ?? Uint8Array;
          const fill = fillFn(r.fill, r.descr);
          const a = new Arr(count);
          for (let i = 0; i < count; i++) a[i] = fill(i);
          const opt = { version: r.version };
          for (const o of r.ops) {
            if (o.version) opt.version = o.version;
            if (o.headerLength !== undefined) opt.headerLength = o.headerLength;
            if (o.magic) opt.magic = o.magic;
          }
          let bytes = npyRaw(dict, new Uint8Array(a.buffer), opt);
          for (const o of r.ops) {
            if (o.cut !== undefined) bytes = bytes.slice(0, o.cut > 0 && o.cut < 1 ? Math.floor(o.cut * bytes.length) : o.cut);
            if (o.extra !== undefined) bytes = concat(bytes, new Uint8Array(o.extra));
          }
          return bytes;
        },
      };
    });

/** Legitimately big inputs: a 10,000-sample float32 batch, a long spike train, a wide batch of frames. */
export const bigNpyFor = (S) =>
  fc.constantFrom('batch10000', 'train100000', 'frames').map((kind) => {
    const per = S.reduce((a, b) => a * b, 1);
    if (kind === 'batch10000') return { what: [`valid float32 batch [10000,${S}]`], build: () => npy('<f4', [10000, ...S], (i) => (i * 13) % 256) };
    if (kind === 'train100000') return { what: [`valid uint8 spike train [${Math.floor(4e7 / per)},1,${S}]`], build: () => npy('|u1', [Math.floor(4e7 / per), 1, ...S], (i) => (i * 7) % 5 === 0 ? 1 : 0) };
    return { what: [`valid float32 frames [50,200,${S}]`], build: () => npy('<f4', [50, 200, ...S], (i) => i % 3) };
  });
