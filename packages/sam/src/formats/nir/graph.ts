/**
 * The NIR graph inside an HDF5 file: `/node` is a NIRGraph group holding `nodes/<name>/{type, fields...}` and
 * `edges` ([E, 2] strings). Nested NIRGraph nodes are flattened (inner names become `outer.inner`, their Input and
 * Output nodes are bridged), and the result must be one chain from the Input node to the Output node.
 */
import { InputError } from '../../errors.js';
import type { H5Group, H5Value } from './hdf5.js';

export interface NirNode {
  readonly name: string;
  readonly type: string;
  readonly fields: ReadonlyMap<string, H5Value>;
  /** The node's `metadata` group (NIR 1.0), non-normative: spikelens writes its dt and reset rule there. */
  readonly metadata: ReadonlyMap<string, H5Value>;
}

export interface NirChain {
  /** The file's NIR version string, when it has one. */
  readonly version: string | null;
  readonly input: NirNode;
  /** Every node between the Input and the Output node, in order. */
  readonly nodes: NirNode[];
  readonly output: NirNode;
}

const MAX_DEPTH = 16;

interface Flat {
  nodes: Map<string, NirNode>;
  edges: [string, string][];
  /** The names of this graph's own Input and Output nodes, after prefixing. */
  inputs: string[];
  outputs: string[];
}

function str(v: H5Group | H5Value | undefined): string | null {
  return v && v.kind === 'string' && v.data.length === 1 ? v.data[0] : null;
}

function flatten(g: H5Group, prefix: string, where: string, file: string, depth: number): Flat {
  if (depth > MAX_DEPTH) throw new InputError(file, `${where}: NIRGraph nested more than ${MAX_DEPTH} deep`);
  const nodesGroup = g.entries.get('nodes');
  if (!nodesGroup || nodesGroup.kind !== 'group') throw new InputError(file, `${where}: a NIRGraph needs a "nodes" group`);
  const flat: Flat = { nodes: new Map(), edges: [], inputs: [], outputs: [] };
  // Inner graphs: where edges into and out of them really go.
  const entry = new Map<string, string[]>();
  const exit = new Map<string, string[]>();
  for (const [key, n] of nodesGroup.entries) {
    const at = `node "${prefix}${key}"`;
    if (n.kind !== 'group') throw new InputError(file, `${at}: expected a group with a "type" and its fields`);
    const type = str(n.entries.get('type'));
    if (type === null) throw new InputError(file, `${at}: has no "type" string`);
    const name = prefix + key;
    if (type === 'NIRGraph') {
      const inner = flatten(n, `${name}.`, at, file, depth + 1);
      for (const [k, v] of inner.nodes) flat.nodes.set(k, v);
      flat.edges.push(...inner.edges);
      entry.set(name, inner.inputs);
      exit.set(name, inner.outputs);
      continue;
    }
    const fields = new Map<string, H5Value>();
    const metadata = new Map<string, H5Value>();
    for (const [k, v] of n.entries) {
      if (k === 'type') continue;
      if (k === 'metadata' && v.kind === 'group') {
        for (const [mk, mv] of v.entries) if (mv.kind !== 'group') metadata.set(mk, mv);
        continue;
      }
      if (v.kind === 'group') {
        // NIR stores dict-valued fields (e.g. Flatten's input_type in some versions) as groups of datasets.
        const first = [...v.entries.values()].find((x) => x.kind !== 'group') as H5Value | undefined;
        if (first) fields.set(k, first);
        continue;
      }
      fields.set(k, v);
    }
    flat.nodes.set(name, { name, type, fields, metadata });
    if (type === 'Input') flat.inputs.push(name);
    if (type === 'Output') flat.outputs.push(name);
  }
  const edges = g.entries.get('edges');
  if (!edges || edges.kind !== 'string') throw new InputError(file, `${where}: a NIRGraph needs "edges", an [E, 2] array of node names`);
  if (edges.data.length % 2 !== 0) throw new InputError(file, `${where}: "edges" has ${edges.data.length} names, not pairs`);
  // An edge names an inner graph either as a whole ("sub": into its Input, out of its Output node) or by one of
  // its nodes ("sub.input").
  const resolve = (n: string, side: 'from' | 'to'): string[] => {
    const full = prefix + n;
    if (entry.has(full)) return side === 'to' ? entry.get(full)! : exit.get(full)!;
    if (!flat.nodes.has(full)) throw new InputError(file, `${where}: an edge names node "${n}", which the graph does not have`);
    return [full];
  };
  for (let i = 0; i < edges.data.length; i += 2) {
    for (const a of resolve(edges.data[i], 'from')) for (const b of resolve(edges.data[i + 1], 'to')) flat.edges.push([a, b]);
  }
  return flat;
}

/** Removes the Input/Output nodes of inner graphs, joining what went into them to what came out. */
function bridge(flat: Flat, keep: Set<string>): void {
  for (const [name, node] of [...flat.nodes]) {
    if ((node.type !== 'Input' && node.type !== 'Output') || keep.has(name)) continue;
    const ins = flat.edges.filter(([, b]) => b === name).map(([a]) => a);
    const outs = flat.edges.filter(([a]) => a === name).map(([, b]) => b);
    flat.edges = flat.edges.filter(([a, b]) => a !== name && b !== name);
    for (const a of ins) for (const b of outs) flat.edges.push([a, b]);
    flat.nodes.delete(name);
  }
}

/** The chain of nodes of the file's top-level NIRGraph. */
export function nirChain(root: H5Group, file: string): NirChain {
  const top = root.entries.get('node');
  if (!top || top.kind !== 'group') throw new InputError(file, 'no "/node" group: not a NIR file');
  const type = str(top.entries.get('type'));
  if (type !== 'NIRGraph') throw new InputError(file, `"/node" has type ${type === null ? 'none' : `"${type}"`}, expected "NIRGraph"`);
  const version = str(root.entries.get('version'));
  const flat = flatten(top, '', 'the graph', file, 0);
  if (flat.inputs.length !== 1) throw new InputError(file, `the graph has ${flat.inputs.length} Input nodes; spikelens runs graphs with exactly one`);
  if (flat.outputs.length !== 1) throw new InputError(file, `the graph has ${flat.outputs.length} Output nodes; spikelens runs graphs with exactly one`);
  bridge(flat, new Set([flat.inputs[0], flat.outputs[0]]));

  const next = new Map<string, string[]>();
  const prev = new Map<string, string[]>();
  const seenEdge = new Set<string>();
  for (const [a, b] of flat.edges) {
    const key = JSON.stringify([a, b]);
    if (seenEdge.has(key)) continue;
    seenEdge.add(key);
    next.set(a, [...(next.get(a) ?? []), b]);
    prev.set(b, [...(prev.get(b) ?? []), a]);
  }
  const chain: NirNode[] = [];
  const visited = new Set<string>();
  let at = flat.inputs[0];
  for (;;) {
    visited.add(at);
    const outs = next.get(at) ?? [];
    const node = flat.nodes.get(at)!;
    if (node.type === 'Output') {
      if (outs.length) throw new InputError(file, `node "${at}" (Output) has outgoing edges`);
      break;
    }
    if (outs.length !== 1)
      throw new InputError(
        file,
        outs.length === 0
          ? `node "${at}" (${node.type}) has no outgoing edge: the graph does not reach its Output node`
          : `node "${at}" (${node.type}) feeds ${outs.length} nodes (${outs.join(', ')}): spikelens runs chains only`,
      );
    const to = outs[0];
    if (visited.has(to)) throw new InputError(file, `node "${to}" is reached twice: the graph has a cycle (recurrent graphs are not supported)`);
    const ins = prev.get(to) ?? [];
    if (ins.length !== 1) throw new InputError(file, `node "${to}" has ${ins.length} incoming edges (${ins.join(', ')}): spikelens runs chains only`);
    if (!flat.nodes.has(to)) throw new InputError(file, `an edge leads to "${to}", which the graph does not have`);
    if (flat.nodes.get(to)!.type !== 'Output') chain.push(flat.nodes.get(to)!);
    at = to;
  }
  const stray = [...flat.nodes.keys()].filter((n) => !visited.has(n));
  if (stray.length) throw new InputError(file, `node "${stray[0]}" is not on the path from the Input to the Output node: spikelens runs chains only`);
  return { version, input: flat.nodes.get(flat.inputs[0])!, nodes: chain, output: flat.nodes.get(at)! };
}
