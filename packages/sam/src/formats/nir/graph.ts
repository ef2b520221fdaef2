/**
 * The NIR graph inside an HDF5 file: `/node` is a NIRGraph group holding `nodes/<name>/{type, fields...}` and
 * `edges` ([E, 2] strings). Nested NIRGraph nodes are flattened (inner names become `outer.inner`, their Input and
 * Output nodes are bridged), and the result must be one chain from the Input node to the Output node. Only the
 * `type` strings and the edges are read here; every other field stays unread until the importer asks for it.
 */
import { InputError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { clip, type H5Dataset, type H5Group } from './hdf5.js';

export interface NirNode {
  readonly name: string;
  readonly type: string;
  /** The node's fields, not read yet. */
  readonly fields: ReadonlyMap<string, H5Dataset>;
  /** The node's `metadata` group (NIR 1.0), non-normative: spikelens writes its dt and reset rule there. */
  readonly metadata: ReadonlyMap<string, H5Dataset>;
}

export interface NirChain {
  /** The file's NIR version string, when it has one. */
  readonly version: string | null;
  readonly input: NirNode;
  /** Every node between the Input and the Output node, in order. */
  readonly nodes: NirNode[];
  readonly output: NirNode;
}

interface Flat {
  nodes: Map<string, NirNode>;
  edges: [string, string][];
  /** The names of this graph's own Input and Output nodes, after prefixing. */
  inputs: string[];
  outputs: string[];
}

/** A dataset holding one string, read; null when it is anything else (checked from its header before reading). */
function str(v: H5Group | H5Dataset | undefined): string | null {
  if (!v || v.kind !== 'dataset' || v.class !== 'string' || v.count !== 1) return null;
  const value = v.read();
  return value.kind === 'string' ? value.data[0] : null;
}

/** A list of names for a message: the first few, clipped. */
function names(list: readonly string[]): string {
  const shown = list.slice(0, 3).map((n) => clip(n, 30));
  return list.length > 3 ? `${shown.join(', ')}, ... (${list.length})` : shown.join(', ');
}

function flatten(g: H5Group, prefix: string, where: string, file: string, depth: number, count: { nodes: number }): Flat {
  // The HDF5 walk bounds the nesting (LIMITS.hdf5Depth); this also holds for graphs nested through shared links.
  if (depth > LIMITS.hdf5Depth) throw new InputError(file, `${where}: NIRGraph nested more than ${LIMITS.hdf5Depth} deep`);
  const nodesGroup = g.entries.get('nodes');
  if (!nodesGroup || nodesGroup.kind !== 'group') throw new InputError(file, `${where}: a NIRGraph needs a "nodes" group`);
  const flat: Flat = { nodes: new Map(), edges: [], inputs: [], outputs: [] };
  // Inner graphs: where edges into and out of them really go.
  const entry = new Map<string, string[]>();
  const exit = new Map<string, string[]>();
  for (const [key, n] of nodesGroup.entries) {
    const at = `node "${clip(prefix + key)}"`;
    if (++count.nodes > LIMITS.hdf5Objects) throw new InputError(file, `more than ${LIMITS.hdf5Objects} NIR nodes once nested graphs are expanded`);
    if (n.kind !== 'group') throw new InputError(file, `${at}: expected a group with a "type" and its fields`);
    const type = str(n.entries.get('type'));
    if (type === null) throw new InputError(file, `${at}: has no "type" string`);
    const name = prefix + key;
    if (type === 'NIRGraph') {
      const inner = flatten(n, `${name}.`, at, file, depth + 1, count);
      for (const [k, v] of inner.nodes) flat.nodes.set(k, v);
      for (const e of inner.edges) flat.edges.push(e);
      entry.set(name, inner.inputs);
      exit.set(name, inner.outputs);
      continue;
    }
    const fields = new Map<string, H5Dataset>();
    const metadata = new Map<string, H5Dataset>();
    for (const [k, v] of n.entries) {
      if (k === 'type') continue;
      if (k === 'metadata' && v.kind === 'group') {
        for (const [mk, mv] of v.entries) if (mv.kind === 'dataset') metadata.set(mk, mv);
        continue;
      }
      if (v.kind === 'group') {
        // NIR stores dict-valued fields (e.g. Flatten's input_type in some versions) as groups of datasets.
        const first = [...v.entries.values()].find((x) => x.kind === 'dataset') as H5Dataset | undefined;
        if (first) fields.set(k, first);
        continue;
      }
      fields.set(k, v);
    }
    flat.nodes.set(name, { name, type: clip(type, 40), fields, metadata });
    if (type === 'Input') flat.inputs.push(name);
    if (type === 'Output') flat.outputs.push(name);
  }
  const edges = g.entries.get('edges');
  if (!edges || edges.kind !== 'dataset' || edges.class !== 'string')
    throw new InputError(file, `${where}: a NIRGraph needs "edges", an [E, 2] array of node names`);
  const list = edges.read().data as string[];
  if (list.length % 2 !== 0) throw new InputError(file, `${where}: "edges" has ${list.length} names, not pairs`);
  // An edge names an inner graph either as a whole ("sub": into its Input, out of its Output node) or by one of
  // its nodes ("sub.input").
  const resolve = (n: string, side: 'from' | 'to'): string[] => {
    const full = prefix + n;
    if (entry.has(full)) return side === 'to' ? entry.get(full)! : exit.get(full)!;
    if (!flat.nodes.has(full)) throw new InputError(file, `${where}: an edge names node "${clip(n)}", which the graph does not have`);
    return [full];
  };
  for (let i = 0; i < list.length; i += 2) {
    for (const a of resolve(list[i], 'from'))
      for (const b of resolve(list[i + 1], 'to')) {
        flat.edges.push([a, b]);
        if (flat.edges.length > LIMITS.hdf5Strings) throw new InputError(file, `${where}: more than ${LIMITS.hdf5Strings} edges once nested graphs are expanded`);
      }
  }
  return flat;
}

/** Removes the Input/Output nodes of inner graphs, joining what went into them to what came out. */
function bridge(flat: Flat, keep: Set<string>, file: string): void {
  const drop = new Set([...flat.nodes].filter(([name, n]) => (n.type === 'Input' || n.type === 'Output') && !keep.has(name)).map(([name]) => name));
  if (!drop.size) return;
  const ins = new Map<string, string[]>();
  const outs = new Map<string, string[]>();
  for (const [a, b] of flat.edges) {
    if (drop.has(b)) (ins.get(b) ?? ins.set(b, []).get(b)!).push(a);
    if (drop.has(a)) (outs.get(a) ?? outs.set(a, []).get(a)!).push(b);
  }
  // Where a dropped node's edges lead once every dropped node between is skipped (they may be chained).
  const ends = (name: string, side: Map<string, string[]>, seen: Set<string>): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    return (side.get(name) ?? []).flatMap((n) => (drop.has(n) ? ends(n, side, seen) : [n]));
  };
  const kept = flat.edges.filter(([a, b]) => !drop.has(a) && !drop.has(b));
  for (const name of drop) {
    const from = ends(name, ins, new Set());
    const to = ends(name, outs, new Set());
    if (kept.length + from.length * to.length > LIMITS.hdf5Strings)
      throw new InputError(file, `more than ${LIMITS.hdf5Strings} edges once the nested graphs' Input and Output nodes are bridged`);
    for (const a of from) for (const b of to) kept.push([a, b]);
  }
  flat.edges = kept;
  for (const name of drop) flat.nodes.delete(name);
}

/** The chain of nodes of the file's top-level NIRGraph. */
export function nirChain(root: H5Group, file: string): NirChain {
  const top = root.entries.get('node');
  if (!top || top.kind !== 'group') throw new InputError(file, 'no "/node" group: not a NIR file');
  const type = str(top.entries.get('type'));
  if (type !== 'NIRGraph') throw new InputError(file, `"/node" has type ${type === null ? 'none' : `"${clip(type)}"`}, expected "NIRGraph"`);
  const version = str(root.entries.get('version'));
  const flat = flatten(top, '', 'the graph', file, 0, { nodes: 0 });
  if (flat.inputs.length !== 1) throw new InputError(file, `the graph has ${flat.inputs.length} Input nodes; spikelens runs graphs with exactly one`);
  if (flat.outputs.length !== 1) throw new InputError(file, `the graph has ${flat.outputs.length} Output nodes; spikelens runs graphs with exactly one`);
  bridge(flat, new Set([flat.inputs[0], flat.outputs[0]]), file);

  const next = new Map<string, string[]>();
  const prev = new Map<string, string[]>();
  const seenEdge = new Set<string>();
  for (const [a, b] of flat.edges) {
    const key = JSON.stringify([a, b]);
    if (seenEdge.has(key)) continue;
    seenEdge.add(key);
    (next.get(a) ?? next.set(a, []).get(a)!).push(b);
    (prev.get(b) ?? prev.set(b, []).get(b)!).push(a);
  }
  const chain: NirNode[] = [];
  const visited = new Set<string>();
  let at = flat.inputs[0];
  for (;;) {
    visited.add(at);
    const outs = next.get(at) ?? [];
    const node = flat.nodes.get(at)!;
    if (node.type === 'Output') {
      if (outs.length) throw new InputError(file, `node "${clip(at)}" (Output) has outgoing edges`);
      break;
    }
    if (outs.length !== 1)
      throw new InputError(
        file,
        outs.length === 0
          ? `node "${clip(at)}" (${node.type}) has no outgoing edge: the graph does not reach its Output node`
          : `node "${clip(at)}" (${node.type}) feeds ${outs.length} nodes (${names(outs)}): spikelens runs chains only`,
      );
    const to = outs[0];
    if (visited.has(to)) throw new InputError(file, `node "${clip(to)}" is reached twice: the graph has a cycle (recurrent graphs are not supported)`);
    const ins = prev.get(to) ?? [];
    if (ins.length !== 1) throw new InputError(file, `node "${clip(to)}" has ${ins.length} incoming edges (${names(ins)}): spikelens runs chains only`);
    if (!flat.nodes.has(to)) throw new InputError(file, `an edge leads to "${clip(to)}", which the graph does not have`);
    if (flat.nodes.get(to)!.type !== 'Output') chain.push(flat.nodes.get(to)!);
    at = to;
  }
  const stray = [...flat.nodes.keys()].filter((n) => !visited.has(n));
  if (stray.length) throw new InputError(file, `node "${clip(stray[0])}" is not on the path from the Input to the Output node: spikelens runs chains only`);
  return { version, input: flat.nodes.get(flat.inputs[0])!, nodes: chain, output: flat.nodes.get(at)! };
}
