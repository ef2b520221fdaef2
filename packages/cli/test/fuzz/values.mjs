// Values that break parsers and validators, and JSON text that can hold what JSON.stringify cannot (NaN, 1e400,
// nesting 100,000 deep, duplicate keys).
import fc from 'fast-check';

/** A token written into JSON text as is. */
export const raw = (text, label = text.length > 40 ? `${text.slice(0, 20)}...(${text.length} chars)` : text) => ({ __raw: text, label });

/** JSON text of `value`, with raw tokens in place. */
export function jsonText(value, space) {
  const raws = [];
  const text = JSON.stringify(
    value,
    (_k, v) => {
      if (v && typeof v === 'object' && '__raw' in v) {
        raws.push(v.__raw);
        return `\u0000RAW${raws.length - 1}\u0000`;
      }
      return v;
    },
    space,
  );
  if (text === undefined) return 'null';
  return raws.length === 0 ? text : text.replace(/"\\u0000RAW(\d+)\\u0000"/g, (_m, i) => raws[Number(i)]);
}

/** A short description of a value for the case's `what`. */
export function show(v) {
  if (v && typeof v === 'object' && '__raw' in v) return `raw(${v.label})`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 40)}...(${s.length} chars)` : s;
}

const deepArray = (n) => raw('['.repeat(n) + ']'.repeat(n), `[[..${n} deep..]]`);
const deepObject = (n) => raw('{"a":'.repeat(n) + '1' + '}'.repeat(n), `{"a":..${n} deep..}`);

export const BIG_INTS = [0, 1, 2, 3, 7, 255, 256, 1000, 4096, 16384, 65535, 65536, 1e5, 100001, 1e6, 2 ** 24, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e21];
export const ODD_NUMBERS = [-1, -0, 0.5, 1.5, -(2 ** 31), -1e308, 1e308, 3e38, 3.5e38, 1e39, 5e-324, 1e-45, 1e-300, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
export const RAW_NUMBERS = [raw('1e400'), raw('-1e400'), raw('NaN'), raw('Infinity'), raw('-0'), raw('1' + '0'.repeat(400)), raw('0.' + '0'.repeat(400) + '1'), raw('01'), raw('1.'), raw('+1'), raw('0x10')];

export const anyNumber = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BIG_INTS) },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_NUMBERS) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_NUMBERS) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);

const weirdStrings = ['', ' ', 'x', '0', '1', 'NaN', 'null', 'true', '../../x', 'a/b', 'con', '.hidden', '-dash', 'line\nbreak', 'tab\tchar', 'caf\u00e9', '\u{1F600}', '\ud800', 'x'.repeat(300), 'y'.repeat(100000)];

export const anyString = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...weirdStrings) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) });

export const anyScalar = fc.oneof(anyNumber, anyString, fc.constantFrom(null, true, false));

/** Anything JSON (and beyond): scalars, small and huge arrays, objects, deep nesting. */
export const anyValue = fc.oneof(
  { weight: 6, arbitrary: anyScalar },
  { weight: 3, arbitrary: fc.array(anyNumber, { maxLength: 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom([], {}, [[]], [{}], { a: 1 }, [null], deepArray(100), deepArray(100000), deepObject(1000), deepObject(100000), Array.from({ length: 3000 }, () => 1), Array.from({ length: 100 }, () => 2 ** 31)),
  },
);

/** Values for fields that take a pair [h, w] of small integers. */
export const anyPair = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(0, 1, 2, 3, 28, 100, 1000, 65536, 2 ** 31, 2 ** 53 - 1, -1), fc.constantFrom(0, 1, 2, 3, 28, 100, 1000, 65536, 2 ** 31, -1)) },
  { weight: 1, arbitrary: fc.constantFrom([1000, 1000], [1, 1000000], [2, 2, 2], [1], [], [1.5, 1.5], ['1', '1'], 3, null, [null, null]) },
);

/** Shapes: plausible, huge, negative, fractional, long. */
export const anyShape = fc.oneof(
  { weight: 2, arbitrary: fc.array(fc.constantFrom(0, 1, 2, 3, 8, 28, 1000, 65536, 2 ** 31, 2000000000, 2 ** 53 - 1), { minLength: 0, maxLength: 6 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom([2000000000], [2 ** 53], [-1], [1.5], ['8'], [null], Array(3000).fill(1), Array(40).fill(2), [65536, 65536], [16384, 16384], [1, 1e6, 1e6], [1e21], 'x', 5, null),
  },
);

/** `arb` with probability `p`, else null. */
export const sometimes = (arb, p) => fc.oneof({ weight: Math.round((1 - p) * 1000), arbitrary: fc.constant(null) }, { weight: Math.round(p * 1000), arbitrary: arb });

/** A fraction in [0, 1] in steps of 1/1000 (positions in a file). */
export const frac = fc.integer({ min: 0, max: 1000 }).map((x) => x / 1000);

/** Mostly one of `arb`, sometimes two to `max`. */
export const few = (arb, max = 3, min = 1) =>
  fc.oneof({ weight: 4, arbitrary: fc.array(arb, { minLength: min, maxLength: Math.max(min, 1) }) }, { weight: 1, arbitrary: fc.array(arb, { minLength: 2, maxLength: max }) });

/** A small index (taken modulo the length of whatever it picks from). */
export const idx = fc.nat({ max: 63 });
