/**
 * ONNX serialisation of a Graph through the `onnx-proto` package (protobufjs-generated `onnx.ModelProto`).
 * Opset 17 (ReduceSum takes axes as an input, ReduceMean/ReduceMax as an attribute; LayerNormalization
 * exists). Constants become initializers with little-endian raw_data. Graph outputs take over the name of
 * the node output they expose (no copy); an input/constant exposed as output goes through Identity.
 */
import onnxProto from 'onnx-proto';
import type { AttrValue, DType, Graph, HostArray, Tensor } from './graph.js';

const { onnx } = onnxProto;

export const OPSET = 17;
/** IR version 8 (ONNX 1.10..1.12, what onnx-proto 8 ships); ORT 1.30 loads it with opset 17. */
export const IR_VERSION = 8;

const DTYPE_CODE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export interface ToOnnxOptions {
  /**
   * Seed for random ops (Dropout). Each Dropout node gets `seed` attribute = mix(seed, node index), so the
   * same graph serialised with the same seed gives the same mask sequence. Default 0.
   */
  seed?: number;
  /** Producer name written in the model; default 'speech-emotion'. */
  producer?: string;
}

function rawBytes(data: HostArray): Uint8Array {
  // Typed arrays on little-endian hosts (every Node target) are already the ONNX raw_data layout.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: DType, shape: readonly number[], data: HostArray): onnxProto.onnx.ITensorProto {
  return { name, dataType: DTYPE_CODE[dtype], dims: [...shape], rawData: rawBytes(data) };
}

function valueInfo(name: string, dtype: DType, shape: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: DTYPE_CODE[dtype], shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

const A = onnx.AttributeProto.AttributeType;

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { name, type: A.FLOAT, f: value };
    return { name, type: A.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if ('float' in value) return { name, type: A.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  return { name, type: A.TENSOR, t: tensorProto(`${name}_value`, value.dtype, [value.tensor.length], value.tensor) };
}

/** A 31-bit integer mix of (seed, index) (splitmix-style), so neighbouring nodes get unrelated seeds. */
export function mixSeed(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** ONNX ops whose attribute `axes` moved to an input in opset <= OPSET. */
const AXES_AS_INPUT = new Set(['ReduceSum']);

/** Serialises `graph` to ONNX model bytes. Only nodes the outputs depend on are written. */
export function toOnnx(graph: Graph, options: ToOnnxOptions = {}): Uint8Array {
  const seed = options.seed ?? 0;
  if (graph.outputs.length === 0) throw new Error(`graph '${graph.name}' has no outputs`);
  const producerOf = (t: Tensor) => graph.producer(t);

  // Output renaming: a node output exposed once as a graph output takes the output's name.
  const rename = new Map<string, string>();
  const identities: { from: string; to: string }[] = [];
  for (const { name, tensor } of graph.outputs) {
    if (producerOf(tensor) && !rename.has(tensor.name) && !graph.inputs.includes(tensor)) rename.set(tensor.name, name);
    else identities.push({ from: tensor.name, to: name });
  }
  const ref = (t: Tensor | null): string => (t ? (rename.get(t.name) ?? t.name) : '');

  // Keep only what the outputs need.
  const live = new Set<string>(graph.outputs.map((o) => o.tensor.name));
  const nodes = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (!node?.outputs.some((t) => live.has(t.name))) continue;
    for (const t of node.inputs) if (t) live.add(t.name);
    nodes.push({ node, index: i });
  }
  nodes.reverse();

  const extraInitializers: onnxProto.onnx.ITensorProto[] = [];
  const nodeProtos: onnxProto.onnx.INodeProto[] = nodes.map(({ node, index }) => {
    const inputs = node.inputs.map(ref);
    const attrs: onnxProto.onnx.IAttributeProto[] = [];
    for (const [key, value] of Object.entries(node.attrs)) {
      if (key === 'axes' && AXES_AS_INPUT.has(node.op)) {
        const axesName = `${node.name}/axes`;
        extraInitializers.push(
          tensorProto(axesName, 'int64', [(value as number[]).length], BigInt64Array.from((value as number[]).map(BigInt))),
        );
        inputs.push(axesName);
        continue;
      }
      attrs.push(attribute(key, value));
    }
    if (node.op === 'Dropout') attrs.push({ name: 'seed', type: A.INT, i: mixSeed(seed, index) });
    return { name: node.name, opType: node.op, input: inputs, output: node.outputs.map(ref), attribute: attrs };
  });
  for (const { from, to } of identities)
    nodeProtos.push({ name: `output/${to}`, opType: 'Identity', input: [ref({ name: from } as Tensor)], output: [to] });

  const model: onnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: options.producer ?? 'speech-emotion',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graph.name,
      node: nodeProtos,
      // Every declared input stays (even if unused) so the feed contract does not depend on the outputs.
      input: graph.inputs.map((t) => valueInfo(t.name, t.dtype, t.shape)),
      initializer: [
        ...graph.constants
          .filter((c) => live.has(c.tensor.name))
          .map((c) => tensorProto(c.tensor.name, c.tensor.dtype, c.tensor.shape, c.data)),
        ...extraInitializers,
      ],
      output: graph.outputs.map(({ name, tensor }) => valueInfo(name, tensor.dtype, tensor.shape)),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}
