/** Reading hand-written JSON objects field by field, with one-line errors that say where and what was expected. */
import { InputError } from '../errors.js';
import { LIMITS } from '../limits.js';

/**
 * A short rendering of a JSON value for messages: one line of at most about 60 characters, whatever the value (an
 * array shows its items only when they are all numbers, strings, booleans or null, and there are at most 8).
 */
export function describe(value: unknown): string {
  if (Array.isArray(value)) {
    if (value.length > 8) return `a list of ${value.length} items`;
    if (!value.every((v) => v === null || ['number', 'string', 'boolean'].includes(typeof v))) return 'a list';
    const text = `[${value.map(scalar).join(',')}]`;
    return text.length <= 60 ? text : `a list of ${value.length} items`;
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  // JSON.stringify would write Infinity (which JSON.parse makes of 1e999) as null.
  if (typeof value === 'number') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}

/** A name taken from the input, shortened for a message (a key may be any length). */
export function clip(name: string, max = 40): string {
  return name.length <= max ? name : `${name.slice(0, max - 3)}...`;
}

/** An error's message as one line of at most 120 characters. */
export function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 120);
}

/**
 * How deeply the arrays and objects of a JSON text nest, counted without parsing it (brackets inside strings
 * skipped); stops counting once past `max`, so a hostile text costs one pass and no stack.
 */
export function jsonDepth(text: string, max: number = LIMITS.jsonDepth): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * JSON.parse with the project's depth limit checked first: every JSON text spikelens reads comes through here, so
 * no input can nest deeper than LIMITS.jsonDepth in any later walk over it. `what` names the text in messages.
 */
export function parseJson(text: string, file: string, what: string): unknown {
  if (jsonDepth(text) > LIMITS.jsonDepth)
    throw new InputError(file, `${what} nests more than ${LIMITS.jsonDepth} levels deep`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `${what} is not valid JSON (${oneLine(err)})`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The fields of one JSON object. `at` says whose fields they are (`layer "conv1"`, or '' at the top level) and
 * `prefix` how they are spelled in a message (`input.preprocess.`), so every error names the file, the place and
 * the field.
 */
export class Fields {
  constructor(
    readonly file: string,
    readonly at: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  fail(field: string, message: string): never {
    const where = `${this.at ? `${this.at} ` : ''}field "${clip(this.prefix + field)}"`;
    throw new InputError(this.file, `${where}: ${message}`);
  }

  /** An error about the object as a whole (its place in the graph), not one field. */
  failAt(message: string): never {
    throw new InputError(this.file, this.at ? `${this.at}: ${message}` : message);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  /** Refuses any key not in `allowed`: a misspelt field must not silently fall back to its default. */
  only(allowed: readonly string[], what: string): void {
    for (const key of Object.keys(this.obj)) {
      if (!allowed.includes(key)) this.fail(key, `unknown field for ${what} (expected one of ${allowed.join(', ')})`);
    }
  }

  object(key: string): Fields | null {
    const value = this.obj[key];
    if (value === undefined) return null;
    if (!isObject(value)) this.fail(key, `${describe(value)} is not an object`);
    return new Fields(this.file, this.at, value as Record<string, unknown>, `${this.prefix}${key}.`);
  }

  string(key: string): string | undefined {
    const value = this.obj[key];
    if (value !== undefined && typeof value !== 'string') this.fail(key, `${describe(value)} is not a string`);
    return value as string | undefined;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    return value ?? this.fail(key, 'is required');
  }

  choice<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const value = this.obj[key] ?? fallback;
    if (!choices.includes(value as T)) this.fail(key, `${describe(value)} is not one of ${choices.join(', ')}`);
    return value as T;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.obj[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, `${describe(value)} is not true or false`);
    return value as boolean;
  }

  /** A finite number (JSON.parse turns 1e999 into Infinity, so finiteness is checked, not assumed). */
  number(key: string, fallback: number): number {
    const value = this.obj[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(key, `${describe(value)} is not a finite number`);
    }
    return value as number;
  }

  /** A number that is finite in float32 too (1e308 is a finite float64 but an infinite float32). */
  float32(key: string, fallback: number): number {
    const value = this.number(key, fallback);
    if (!Number.isFinite(Math.fround(value))) this.fail(key, `${value} is beyond float32's range`);
    return value;
  }

  float32s(key: string, fallback: readonly number[]): number[] {
    const values = this.numbers(key, fallback);
    const bad = values.findIndex((v) => !Number.isFinite(Math.fround(v)));
    if (bad >= 0) this.fail(key, `value ${bad} (${values[bad]}) is beyond float32's range`);
    return values;
  }

  integer(key: string, min: number, fallback?: number): number {
    const value = this.obj[key] ?? fallback;
    if (value === undefined) this.fail(key, 'is required');
    if (!isInteger(value, min)) this.fail(key, `${describe(value)} is not an integer >= ${min}`);
    return value as number;
  }

  /** A `[h, w]` pair of integers >= min. */
  pair(key: string, min: number, fallback?: readonly [number, number]): [number, number] {
    const value = this.obj[key] ?? fallback;
    if (value === undefined) this.fail(key, 'is required');
    if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => isInteger(v, min))) {
      this.fail(key, `${describe(value)} is not a pair [h, w] of integers >= ${min}`);
    }
    return [value[0], value[1]];
  }

  numbers(key: string, fallback: readonly number[]): number[] {
    const value = this.obj[key] ?? fallback;
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      this.fail(key, `${describe(value)} is not a list of finite numbers`);
    }
    return [...value];
  }
}

export function isInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}
