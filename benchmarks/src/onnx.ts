/**
 * Just enough of ONNX's protobuf (onnx/onnx.proto, IR version 8) to write a graph of float tensors: ModelProto,
 * GraphProto, NodeProto with int / ints attributes, initializers as raw little-endian float32, and inputs/outputs
 * with fixed shapes. The onnxruntime peer builds its per-segment models with it, so no Python or onnx package is
 * needed to run the benchmark.
 */

/** Protobuf field numbers used below (onnx.proto). */
const F = {
  model: { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 },
  opset: { domain: 1, version: 2 },
  graph: { node: 1, name: 2, initializer: 5, input: 11, output: 12 },
  node: { input: 1, output: 2, name: 3, opType: 4, attribute: 5 },
  attribute: { name: 1, f: 2, i: 3, ints: 8, type: 20 },
  tensor: { dims: 1, dataType: 2, name: 8, rawData: 9 },
  valueInfo: { name: 1, type: 2 },
  type: { tensorType: 1 },
  tensorType: { elemType: 1, shape: 2 },
  shape: { dim: 1 },
  dim: { value: 1 },
} as const;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;
const FLOAT = 1;

/** A protobuf message under construction: a list of byte chunks. */
class Msg {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`onnx: varint ${n}`);
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    this.push(Uint8Array.from(out));
  }

  int(field: number, n: number): this {
    this.varint(field << 3);
    this.varint(n);
    return this;
  }

  float(field: number, x: number): this {
    this.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export type Attr = number | readonly number[] | { readonly float: number };

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, Attr>>;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  /** Constant float32 tensors. */
  readonly initializers: readonly { readonly name: string; readonly dims: readonly number[]; readonly data: Float32Array }[];
  readonly inputs: readonly { readonly name: string; readonly dims: readonly number[] }[];
  readonly outputs: readonly { readonly name: string; readonly dims: readonly number[] }[];
}

function valueInfo(name: string, dims: readonly number[]): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(F.shape.dim, new Msg().int(F.dim.value, d));
  const tensor = new Msg().int(F.tensorType.elemType, FLOAT).msg(F.tensorType.shape, shape);
  return new Msg().str(F.valueInfo.name, name).msg(F.valueInfo.type, new Msg().msg(F.type.tensorType, tensor));
}

/** The serialized ModelProto (opset 17 of the default domain) of `g`. */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const graph = new Msg();
  g.nodes.forEach((n, k) => {
    const node = new Msg();
    for (const i of n.inputs) node.str(F.node.input, i);
    for (const o of n.outputs) node.str(F.node.output, o);
    node.str(F.node.name, `${n.op.toLowerCase()}_${k}`).str(F.node.opType, n.op);
    for (const [name, v] of Object.entries(n.attrs ?? {})) {
      const a = new Msg().str(F.attribute.name, name);
      if (typeof v === 'number') a.int(F.attribute.i, v).int(F.attribute.type, ATTR_INT);
      else if ('float' in v) a.float(F.attribute.f, v.float).int(F.attribute.type, ATTR_FLOAT);
      else {
        for (const x of v) a.int(F.attribute.ints, x);
        a.int(F.attribute.type, ATTR_INTS);
      }
      node.msg(F.node.attribute, a);
    }
    graph.msg(F.graph.node, node);
  });
  graph.str(F.graph.name, g.name);
  for (const t of g.initializers) {
    const tensor = new Msg();
    for (const d of t.dims) tensor.int(F.tensor.dims, d);
    tensor.int(F.tensor.dataType, FLOAT).str(F.tensor.name, t.name);
    tensor.bytes(F.tensor.rawData, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    graph.msg(F.graph.initializer, tensor);
  }
  for (const i of g.inputs) graph.msg(F.graph.input, valueInfo(i.name, i.dims));
  for (const o of g.outputs) graph.msg(F.graph.output, valueInfo(o.name, o.dims));
  return new Msg()
    .int(F.model.irVersion, 8)
    .str(F.model.producerName, 'spikelens-benchmarks')
    .msg(F.model.opsetImport, new Msg().str(F.opset.domain, '').int(F.opset.version, 17))
    .msg(F.model.graph, graph)
    .finish();
}
