/**
 * The memory a network takes, before anything runs (docs/library.md, "Footprint"): the arena laid out by the very
 * code a Network lays itself out with (compilePlan, the threads' blocks, the SAM observers' buffers), against a
 * Tally that counts every block instead of writing it; and the core module's own static memory below the arena,
 * read from the module's bytes.
 */
import { embeddedThreadsWasm, embeddedWasm } from '@spikelens/core-wasm';
import type { Allocator, Part, Tag } from './arena.js';
import { UsageError } from './errors.js';
import { LIMITS } from './limits.js';
import type { Model } from './model.js';
import { isSpiking, sizeOf } from './model.js';
import { DEFAULT_EVENT_THRESHOLD, compilePlan, layoutThreads, planFrames } from './plan.js';
import { layoutSam } from './observers.js';
import { checkRequest, recordAll, resolveTimesteps } from './run.js';

export type { Part } from './arena.js';

/** The parts of the arena, in the order tables show them. */
export const FOOTPRINT_PARTS: readonly Part[] = ['weights', 'state', 'sam', 'windows', 'scratch', 'program', 'io'];

/** One block of the arena: its layer (or `input`, `readout`, `(shared)`, `(plan)`, `(threads)`), part and bytes. */
export interface FootprintBlock {
  readonly layer: string;
  readonly part: Part;
  /** What it is (`packed`, `membrane`, `trace`, ...); blocks of one layer with one tag are summed. */
  readonly what: string;
  readonly bytes: number;
}

/** What a core module keeps for itself below the arena (read from its bytes: nothing is instantiated). */
export interface CoreStatics {
  /** `core.wasm` (one thread) or `core-threads.wasm`. */
  readonly build: string;
  /** Bytes of the module. */
  readonly wasmBytes: number;
  /** The module's `heap_base()`: every byte below it is the core's own; the arena starts there. */
  readonly heapBase: number;
  /** Data segments and their bytes (initialised static data). */
  readonly dataSegments: number;
  readonly dataBytes: number;
  /**
   * Bytes of the event convolution's list scratch (`scratch_bytes()`): static, below the heap base, in the
   * one-thread build; in the threads build none is static and the host gives each thread a block of the arena.
   */
  readonly listScratch: number;
  readonly listScratchStatic: boolean;
  /** 64 KiB pages the module's memory starts with (its declared or imported minimum), and its maximum if any. */
  readonly initialPages: number;
  readonly maxPages: number | null;
}

export interface FootprintOptions {
  /** Samples run at once (default 1). */
  readonly batch?: number;
  /** Steps of the run (default: the model's); the windows hold `frames`, not T (see `frames`). */
  readonly timesteps?: number;
  /** What drives the run: pixels through the encoder (default) or a spike train (what `record: 'all'` names). */
  readonly input?: 'pixels' | 'train';
  /** Layers recorded (spikes and membranes, as `spikelens run` records them), or 'all'. Outside the arena. */
  readonly record?: readonly string[] | 'all';
  /** Layers whose Spike Activation Maps are computed: each takes a trace per neuron and a map in the arena. */
  readonly sam?: readonly string[];
  /** NetworkOptions of the same names, with the Network's defaults. */
  readonly blockSteps?: number;
  readonly threads?: number;
  readonly countSops?: boolean;
  readonly eventThreshold?: number;
  /** The core module's bytes (default: the embedded build, the threads one for `threads: 2`). */
  readonly core?: Uint8Array;
}

export interface Footprint {
  readonly batch: number;
  readonly timesteps: number;
  /** Frames every window holds: the network's `blockSteps`. */
  readonly frames: number;
  readonly threads: 1 | 2;
  /** Arena bytes by part; with `padding` and `staging` they sum to `arena`. */
  readonly parts: Readonly<Record<Part, number>>;
  /** Bytes between blocks that keep each at its alignment (16 bytes; 64 for packed weights and value tables). */
  readonly padding: number;
  /**
   * Bytes past the final layout used only while it is made (a conv's weights as stored, before packing, when they
   * end past everything laid out after them); 0 when later blocks cover them.
   */
  readonly staging: number;
  /** The arena: what `net.arena.size` is once the network and its SAM observers are laid out. */
  readonly arena: number;
  /** Whether the arena is within LIMITS.arenaBytes (a Network refuses a larger one). */
  readonly fits: boolean;
  readonly blocks: readonly FootprintBlock[];
  /** The core's static memory below the arena. */
  readonly core: CoreStatics;
  /** Linear memory the network needs: the core's heap base plus the arena, and that in 64 KiB pages. */
  readonly memory: number;
  readonly pages: number;
  /**
   * Bytes a run that keeps its outputs holds outside the core's memory, for T steps (what `spikelens run` writes):
   * recorded spikes (1 byte a neuron) and membranes (4), maps (4 a pixel), scores.
   */
  readonly outputs: { readonly record: number; readonly sam: number; readonly scores: number };
}

const PAGE = 65536;

/**
 * The footprint of `model` run at `batch` for `timesteps`, with the given SAM layers, recordings, block length and
 * threads: the exact bytes of the arena a Network of these options lays out, by part and block, the core's static
 * memory, and the outputs a run keeps. Nothing runs and no core is instantiated.
 */
export function footprint(model: Model, options: FootprintOptions = {}): Footprint {
  const batch = options.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, not ${batch}`);
  const threads = options.threads ?? 1;
  if (threads !== 1 && threads !== 2) throw new UsageError(`threads must be 1 or 2, not ${threads}`);
  const asked = options.blockSteps;
  if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1)) throw new UsageError(`blockSteps must be a positive integer, not ${asked}`);
  const kind = options.input ?? 'pixels';
  const T = resolveTimesteps(model, { kind: 'pixels', file: model.file }, options.timesteps);
  const record = options.record === 'all' ? recordAll(model, { kind }) : options.record ?? [];
  const sam = options.sam ?? [];
  checkRequest({ model, record, sam }, T);
  if (record.includes('input') && kind === 'pixels' && model.input.encoding.kind === 'direct')
    throw new UsageError('the input is not spikes (direct encoding): nothing to record as "input"');

  const core = coreStatics(options.core ?? (threads === 2 ? embeddedThreadsWasm() : embeddedWasm()), threads === 2 ? 'core-threads.wasm' : 'core.wasm');
  const tally = new Tally(core.heapBase);
  // as Network's constructor, then each SamObserver
  if (threads === 2) layoutThreads(tally, core.listScratch);
  const frames = planFrames(model, batch, asked);
  compilePlan(model, null, tally, {
    batch, frames, eventThreshold: options.eventThreshold ?? DEFAULT_EVENT_THRESHOLD, countSops: options.countSops ?? false, threads,
  });
  for (const name of sam) layoutSam(tally, batch, model.layers.find((l) => l.name === name)!.outShape, name);

  const arena = tally.size;
  const memory = core.heapBase + arena;
  return {
    batch, timesteps: T, frames, threads,
    parts: tally.parts(), padding: tally.padding, staging: tally.staging, arena, fits: arena <= LIMITS.arenaBytes, blocks: tally.blocks(), core,
    memory, pages: Math.ceil(memory / PAGE),
    outputs: outputBytes(model, batch, T, record, sam, kind),
  };
}

function outputBytes(model: Model, B: number, T: number, record: readonly string[], sam: readonly string[], kind: 'pixels' | 'train'): Footprint['outputs'] {
  let rec = 0;
  for (const name of record) {
    if (name === 'input') {
      rec += T * B * sizeOf(model.input.shape) * (kind === 'train' ? 4 : 1); // a train: at most float32 frames
      continue;
    }
    const l = model.layers.find((x) => x.name === name)!;
    const n = T * B * sizeOf(l.outShape);
    rec += n * 4 + (isSpiking(l) ? n : 0);
  }
  let maps = 0;
  for (const name of sam) {
    const [, H, W] = model.layers.find((x) => x.name === name)!.outShape;
    maps += T * B * H * W * 4;
  }
  return { record: rec, sam: maps, scores: B * sizeOf(model.layers[model.layers.length - 1].outShape) * 4 };
}

/**
 * An Allocator that only counts: the blocks a layout asks for at the addresses an Arena from `base` would give
 * (alignment included), each with its tag and layer. Writing through it is a bug: its views throw.
 */
export class Tally implements Allocator {
  readonly live = false;
  private top: number;
  private high: number;
  private layer = '';
  private readonly list: { layer: string; tag: Tag; from: number; ptr: number; to: number }[] = [];

  constructor(readonly base: number) {
    this.top = base;
    this.high = base;
  }

  /** Bytes above the base: what an Arena's `size` would be. */
  get size(): number {
    return this.high - this.base;
  }

  /** Bytes used past the final top (given back by `release` and not covered again). */
  get staging(): number {
    return this.high - this.top;
  }

  alloc(bytes: number, align: number, tag: Tag): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`tally: bad allocation size ${bytes}`);
    if (tag === undefined) throw new Error('tally: an allocation without a tag');
    const ptr = Math.ceil(this.top / align) * align;
    this.list.push({ layer: this.layer, tag, from: this.top, ptr, to: ptr + bytes });
    this.top = ptr + bytes;
    if (this.top > this.high) this.high = this.top;
    return ptr;
  }

  allocF32(n: number, tag: Tag): number {
    return this.alloc(n * 4, 16, tag);
  }

  putF32(data: ArrayLike<number>, tag: Tag): number {
    return this.allocF32(data.length, tag);
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
    while (this.list.length > 0 && this.list[this.list.length - 1].from >= mark) this.list.pop();
  }

  label(layer: string): void {
    this.layer = layer;
  }

  f32(): Float32Array {
    throw new Error('tally: a counted layout holds no data');
  }

  f64(): Float64Array {
    throw new Error('tally: a counted layout holds no data');
  }

  i32(): Int32Array {
    throw new Error('tally: a counted layout holds no data');
  }

  /** Bytes by part of the blocks laid out. */
  parts(): Record<Part, number> {
    const parts = Object.fromEntries(FOOTPRINT_PARTS.map((p) => [p, 0])) as Record<Part, number>;
    for (const b of this.list) parts[partOf(b.tag)] += b.to - b.ptr;
    return parts;
  }

  /** Bytes skipped to align the blocks laid out. */
  get padding(): number {
    return this.list.reduce((a, b) => a + b.ptr - b.from, 0);
  }

  /** The blocks, those of one layer and tag summed, in layout order. */
  blocks(): FootprintBlock[] {
    const out: FootprintBlock[] = [];
    const at = new Map<string, number>();
    for (const b of this.list) {
      const key = `${b.layer}\u0000${b.tag}`;
      const i = at.get(key);
      if (i !== undefined) {
        out[i] = { ...out[i], bytes: out[i].bytes + b.to - b.ptr };
        continue;
      }
      at.set(key, out.length);
      const colon = b.tag.indexOf(':');
      out.push({ layer: b.layer, part: partOf(b.tag), what: colon < 0 ? b.tag : b.tag.slice(colon + 1), bytes: b.to - b.ptr });
    }
    return out;
  }
}

function partOf(tag: Tag): Part {
  const colon = tag.indexOf(':');
  return (colon < 0 ? tag : tag.slice(0, colon)) as Part;
}

/**
 * What a core module keeps below the arena, from its bytes: the constant its `heap_base` and `scratch_bytes` exports
 * return, its data segments and its memory's limits. Throws when the module is not a core of this shape.
 */
export function coreStatics(bytes: Uint8Array, build = 'core.wasm'): CoreStatics {
  const r = new Reader(bytes);
  if (r.u32le() !== 0x6d736100 || r.u32le() !== 1) throw new Error(`${build}: not a WebAssembly module`);
  let funcImports = 0;
  let memory: { min: number; max: number | null } | null = null;
  const exports = new Map<string, number>();
  const bodies: [number, number][] = [];
  let dataSegments = 0;
  let dataBytes = 0;
  while (!r.done()) {
    const id = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (id === 2) {
      for (let n = r.leb(); n > 0; n--) {
        r.skipName();
        r.skipName();
        const kind = r.byte();
        if (kind === 0) {
          funcImports++;
          r.leb();
        } else if (kind === 1) {
          r.byte();
          r.limits();
        } else if (kind === 2) memory = r.limits();
        else if (kind === 3) r.pos += 2;
        else throw new Error(`${build}: unknown import kind ${kind}`);
      }
    } else if (id === 5) {
      if (r.leb() > 0) memory = r.limits();
    } else if (id === 7) {
      for (let n = r.leb(); n > 0; n--) {
        const name = r.name();
        const kind = r.byte();
        const index = r.leb();
        if (kind === 0) exports.set(name, index);
      }
    } else if (id === 10) {
      for (let n = r.leb(); n > 0; n--) {
        const len = r.leb();
        bodies.push([r.pos, r.pos + len]);
        r.pos += len;
      }
    } else if (id === 11) {
      for (let n = r.leb(); n > 0; n--) {
        const flag = r.leb();
        if (flag === 2) r.leb();
        if (flag !== 1) r.skipConstExpr();
        const len = r.leb();
        dataSegments++;
        dataBytes += len;
        r.pos += len;
      }
    }
    r.pos = end;
  }
  const constant = (name: string): number => {
    const index = exports.get(name);
    const body = index === undefined ? undefined : bodies[index - funcImports];
    if (!body) throw new Error(`${build}: no function export "${name}"`);
    const b = new Reader(bytes, body[0]);
    for (let n = b.leb(); n > 0; n--) {
      b.leb();
      b.byte();
    }
    // the body is `i32.const N; end`
    if (b.byte() !== 0x41) throw new Error(`${build}: "${name}" does not return a constant`);
    const value = b.sleb();
    if (b.byte() !== 0x0b || b.pos !== body[1]) throw new Error(`${build}: "${name}" does not return a constant`);
    return value;
  };
  const heapBase = constant('heap_base');
  const listScratch = constant('scratch_bytes');
  return {
    build, wasmBytes: bytes.length, heapBase, dataSegments, dataBytes, listScratch,
    // a build whose heap base leaves room for the list scratch keeps it there (core-wasm event.ts)
    listScratchStatic: heapBase >= listScratch,
    initialPages: memory?.min ?? 0, maxPages: memory?.max ?? null,
  };
}

class Reader {
  constructor(
    private readonly b: Uint8Array,
    public pos = 0,
  ) {}
  done(): boolean {
    return this.pos >= this.b.length;
  }
  byte(): number {
    if (this.pos >= this.b.length) throw new Error('core module: truncated');
    return this.b[this.pos++];
  }
  u32le(): number {
    return (this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24)) >>> 0;
  }
  leb(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const x = this.byte();
      v += (x & 0x7f) * scale;
      if (!(x & 0x80)) return v;
      scale *= 128;
    }
  }
  sleb(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const x = this.byte();
      v += (x & 0x7f) * scale;
      scale *= 128;
      if (!(x & 0x80)) return x & 0x40 ? v - scale : v;
    }
  }
  name(): string {
    const len = this.leb();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  skipName(): void {
    const len = this.leb();
    this.pos += len;
  }
  limits(): { min: number; max: number | null } {
    const flags = this.byte();
    const min = this.leb();
    return { min, max: flags & 1 ? this.leb() : null };
  }
  /** A constant expression up to its `end` (i32.const, global.get: an offset). */
  skipConstExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42) this.sleb();
      else if (op === 0x23) this.leb();
      else throw new Error(`core module: unexpected opcode 0x${op.toString(16)} in a data offset`);
    }
  }
}
