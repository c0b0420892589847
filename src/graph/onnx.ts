/**
 * ONNX serialisation of a Graph through the `onnx-proto` package (protobufjs-generated `onnx.ModelProto`).
 * Opset 17 (ReduceSum takes axes as an input, ReduceMean/ReduceMax as an attribute; LayerNormalization
 * exists). Constants become initializers with little-endian raw_data. Graph outputs take over the name of
 * the node output they expose (no copy); an input/constant exposed as output goes through Identity.
 */
import onnxProto from 'onnx-proto';
import type { AttrValue, DType, Graph, HostArray, Node, Tensor } from './graph.js';

const { onnx } = onnxProto;

export const OPSET = 17;
/** IR version 8 (ONNX 1.10..1.12, what onnx-proto 8 ships); ORT 1.30 loads it with opset 17. */
export const IR_VERSION = 8;

const DTYPE_CODE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

export interface ToOnnxOptions {
  /** Producer name written in the model; default 'speech-emotion'. */
  producer?: string;
  /**
   * ONNX Runtime CPU only: lower Conv nodes whose weights are NOT constants (training graphs feed them) to
   * ORT's NCHWc kernels (domain com.microsoft.nchwc) with this channel block size, reordering the weights
   * inside the graph. ORT applies NCHWc itself only to constant weights. Must equal MLAS's block size on the
   * running machine: get it from `nchwcBlockSize()` of src/runtime (16 with AVX-512, 8 with AVX2); 0 or
   * absent = no lowering. Only Convs with group 1 and channel counts that are multiples of the block are
   * lowered (for 1-channel inputs the NCHWc path measured slower). See lowerConvToNchwc.
   */
  nchwcBlock?: number;
  /**
   * Write a symbolic batch axis: the graph was built with this batch size, chosen so that no other dimension
   * has it (e.g. 1_000_003). Inputs' and outputs' first dimensions of that size become dim_param 'batch', and
   * every Reshape target entry equal to it becomes -1; an int64 constant holding it anywhere else, a Reshape
   * target holding it twice or merged with another axis, or a BatchMoments node (lowered with fixed shapes)
   * throws: the batch would stay fixed there. For inference graphs (the exported model).
   */
  dynamicBatch?: number;
}

function rawBytes(data: HostArray): Uint8Array {
  // Typed arrays on little-endian hosts (every Node target) are already the ONNX raw_data layout.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(name: string, dtype: DType, shape: readonly number[], data: HostArray): onnxProto.onnx.ITensorProto {
  return { name, dataType: DTYPE_CODE[dtype], dims: [...shape], rawData: rawBytes(data) };
}

/**
 * The float32 initializers of ONNX model bytes, by name, with their shapes: what toOnnx wrote for float32
 * constants read back (little-endian raw_data, copied). Initializers of other types, or without raw_data, are
 * left out.
 */
export function floatInitializers(bytes: Uint8Array): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const init of onnx.ModelProto.decode(bytes).graph?.initializer ?? []) {
    const raw = init.rawData;
    if (init.dataType !== DTYPE_CODE.float32 || !raw || raw.byteLength === 0) continue;
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    out.set(init.name ?? '', { data, shape: (init.dims ?? []).map(Number) });
  }
  return out;
}

function valueInfo(name: string, dtype: DType, shape: readonly number[], dynamicBatch?: number): onnxProto.onnx.IValueInfoProto {
  const dim = shape.map((d, i) => (i === 0 && d === dynamicBatch ? { dimParam: 'batch' } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: DTYPE_CODE[dtype], shape: { dim } } } };
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

const NCHWC = 'com.microsoft.nchwc';

/**
 * Conv -> ReorderInput, weight reorder, NCHWc Conv, ReorderOutput (ORT contrib ops). The weight
 * [Cout, Cin, kH, kW] is laid out as MLAS's OIHWBiBo: [Cout/b, Cin/b, kH, kW, b(in), b(out)], made by
 * Reshape -> Transpose(0,2,4,5,3,1) -> Reshape back to 4-D (the shape ORT's own NCHWc transformer gives
 * its reordered initializers). Timings: docs/benchmark-log.md.
 */
function lowerConvToNchwc(
  node: Node,
  inputs: string[],
  outputs: string[],
  attrs: onnxProto.onnx.IAttributeProto[],
  block: number,
  addInitializer: (t: onnxProto.onnx.ITensorProto) => void,
): onnxProto.onnx.INodeProto[] {
  const w = node.inputs[1] as Tensor;
  const [cout, cin, kh, kw] = w.shape as [number, number, number, number];
  const base = node.name;
  const shapeConst = (name: string, dims: number[]): string => {
    addInitializer(tensorProto(name, 'int64', [dims.length], BigInt64Array.from(dims.map(BigInt))));
    return name;
  };
  const blocked = shapeConst(`${base}/nchwc_w_blocked`, [cout / block, block, cin / block, block, kh, kw]);
  const flat = shapeConst(`${base}/nchwc_w_shape`, [cout, cin, kh, kw]);
  const [x, weight, bias] = inputs as [string, string, string | undefined];
  return [
    { name: `${base}/nchwc_reorder_in`, opType: 'ReorderInput', domain: NCHWC, input: [x], output: [`${base}/nchwc_x`], attribute: [] },
    { name: `${base}/nchwc_w_reshape`, opType: 'Reshape', input: [weight, blocked], output: [`${base}/nchwc_w6`] },
    {
      name: `${base}/nchwc_w_transpose`,
      opType: 'Transpose',
      input: [`${base}/nchwc_w6`],
      output: [`${base}/nchwc_w6t`],
      attribute: [{ name: 'perm', type: A.INTS, ints: [0, 2, 4, 5, 3, 1] }],
    },
    { name: `${base}/nchwc_w_flat`, opType: 'Reshape', input: [`${base}/nchwc_w6t`, flat], output: [`${base}/nchwc_w`] },
    {
      name: `${base}/nchwc_conv`,
      opType: 'Conv',
      domain: NCHWC,
      input: [`${base}/nchwc_x`, `${base}/nchwc_w`, ...(bias ? [bias] : [])],
      output: [`${base}/nchwc_y`],
      attribute: attrs,
    },
    {
      name: `${base}/nchwc_reorder_out`,
      opType: 'ReorderOutput',
      domain: NCHWC,
      input: [`${base}/nchwc_y`],
      output: outputs,
      attribute: [{ name: 'channels', type: A.INT, i: cout }],
    },
  ];
}

function nchwcEligible(graph: Graph, node: Node, block: number): boolean {
  if (node.op !== 'Conv' || block <= 0 || node.attrs.group !== 1) return false;
  const w = node.inputs[1] as Tensor;
  if (w.dtype !== 'float32' || graph.constantData(w)) return false;
  const [cout, cin] = w.shape as [number, number];
  return cin % block === 0 && cout % block === 0;
}

/**
 * BatchMoments (ops.ts) as ONNX. Per image row (W contiguous values), ReduceSum and ReduceSumSquare (ORT's
 * last-axis reductions; ReduceSumSquare runs ~2.6x faster on [N C H, W] rows than on [N C, H W] ones); the
 * [N, C, H] partial sums are then added over N and H in float64, and mean = S1 / n, var = S2 / n - mean^2 in
 * float64, cast back. Summing in two levels keeps float32 round-off near that of one row (measured against the
 * torch golden: reducing over (0, 2, 3) in one float32 pass put BN running variances ~2e-5 off, this ~1e-6).
 */
function lowerBatchMoments(
  node: Node,
  [x = '']: string[],
  [out]: string[],
  addInitializer: (t: onnxProto.onnx.ITensorProto) => void,
): onnxProto.onnx.INodeProto[] {
  const source = node.inputs[0] as Tensor;
  const [batch, channels, height, width] = source.shape as [number, number, number, number];
  const base = node.name;
  const v = (suffix: string) => `${base}/${suffix}`;
  addInitializer(tensorProto(v('rows_shape'), 'int64', [2], BigInt64Array.of(BigInt(batch * channels * height), BigInt(width))));
  addInitializer(tensorProto(v('partial_shape'), 'int64', [3], BigInt64Array.of(BigInt(batch), BigInt(channels), BigInt(height))));
  addInitializer(tensorProto(v('out_shape'), 'int64', [2], BigInt64Array.of(2n, BigInt(channels))));
  addInitializer(tensorProto(v('count'), 'float64', [], Float64Array.of(batch * height * width)));
  addInitializer(tensorProto(v('axis1'), 'int64', [1], BigInt64Array.of(1n)));
  addInitializer(tensorProto(v('axes02'), 'int64', [2], BigInt64Array.of(0n, 2n)));
  const keep0 = { name: 'keepdims', type: A.INT, i: 0 };
  const float64 = { name: 'to', type: A.INT, i: 11 };
  const back = { name: 'to', type: A.INT, i: source.dtype === 'float64' ? 11 : 1 };
  const emit = (name: string, opType: string, input: string[], attribute: onnxProto.onnx.IAttributeProto[] = []) => ({
    name: v(name),
    opType,
    input,
    output: [v(name)],
    attribute,
  });
  const sums = (name: string, opType: string, extra: onnxProto.onnx.IAttributeProto[], axes: string[]) => [
    emit(`${name}_rows`, opType, [v('rows'), ...axes], [keep0, ...extra]),
    emit(`${name}_partial`, 'Reshape', [v(`${name}_rows`), v('partial_shape')]),
    emit(`${name}_f64`, 'Cast', [v(`${name}_partial`)], [float64]),
    emit(name, 'ReduceSum', [v(`${name}_f64`), v('axes02')], [keep0]),
  ];
  return [
    emit('rows', 'Reshape', [x, v('rows_shape')]),
    // ReduceSum takes its axes as an input in opset 13+, ReduceSumSquare as an attribute until opset 18.
    ...sums('sum', 'ReduceSum', [], [v('axis1')]),
    ...sums('sum_sq', 'ReduceSumSquare', [{ name: 'axes', type: A.INTS, ints: [1] }], []),
    emit('mean', 'Div', [v('sum'), v('count')]),
    emit('mean_sq', 'Div', [v('sum_sq'), v('count')]),
    emit('sq_mean', 'Mul', [v('mean'), v('mean')]),
    emit('var', 'Sub', [v('mean_sq'), v('sq_mean')]),
    emit('concat', 'Concat', [v('mean'), v('var')], [{ name: 'axis', type: A.INT, i: 0 }]),
    emit('cast', 'Cast', [v('concat')], [back]),
    { name: v('reshape'), opType: 'Reshape', input: [v('cast'), v('out_shape')], output: [out as string] },
  ];
}

/**
 * For ToOnnxOptions.dynamicBatch: per Reshape node holding the batch size in its (constant) target, the name of a
 * new initializer with -1 there; throws where the batch size sits in any other int64 constant.
 */
function symbolicBatchTargets(
  graph: Graph,
  nodes: readonly Node[],
  batch: number,
  add: (t: onnxProto.onnx.ITensorProto) => void,
): Map<string, string> {
  const targets = new Map<string, string>();
  const reshapeTargets = new Set<string>();
  for (const node of nodes) {
    if (node.op !== 'Reshape') continue;
    const target = node.inputs[1] as Tensor;
    const data = graph.constantData(target);
    if (!data) throw new Error(`dynamicBatch: Reshape '${node.name}' has a computed target shape`);
    const values = Array.from(data as BigInt64Array, Number);
    const hits = values.filter((v) => v === batch).length;
    if (hits > 1 || values.some((v) => v !== batch && v !== 0 && v % batch === 0)) {
      throw new Error(
        `dynamicBatch: Reshape '${node.name}' target [${values}] holds the batch size ${batch} twice or merged with another axis`,
      );
    }
    reshapeTargets.add(target.name);
    if (hits === 0) continue;
    const name = `${node.name}/batch_shape`;
    add(
      tensorProto(
        name,
        'int64',
        [values.length],
        BigInt64Array.from(values, (v) => BigInt(v === batch ? -1 : v)),
      ),
    );
    targets.set(node.name, name);
  }
  const used = new Set(nodes.flatMap((node) => node.inputs.map((t) => t?.name)));
  for (const { tensor, data } of graph.constants) {
    if (tensor.dtype !== 'int64' || reshapeTargets.has(tensor.name) || !used.has(tensor.name)) continue;
    if (Array.from(data as BigInt64Array, Number).some((v) => v === batch || (v !== 0 && v % batch === 0))) {
      throw new Error(`dynamicBatch: constant '${tensor.name}' holds the batch size ${batch} (or a multiple): the batch would stay fixed`);
    }
  }
  return targets;
}

/** ONNX ops whose attribute `axes` moved to an input in opset <= OPSET. */
const AXES_AS_INPUT = new Set(['ReduceSum']);

/** Serialises `graph` to ONNX model bytes. Only nodes the outputs depend on are written. */
export function toOnnx(graph: Graph, options: ToOnnxOptions = {}): Uint8Array {
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
    nodes.push(node);
  }
  nodes.reverse();

  const extraInitializers: onnxProto.onnx.ITensorProto[] = [];
  const batch = options.dynamicBatch;
  const batchTargets =
    batch === undefined ? new Map<string, string>() : symbolicBatchTargets(graph, nodes, batch, (t) => extraInitializers.push(t));
  const block = options.nchwcBlock ?? 0;
  let usesNchwc = false;
  const nodeProtos: onnxProto.onnx.INodeProto[] = nodes.flatMap((node) => {
    const inputs = node.inputs.map(ref);
    if (node.op === 'Reshape' && batchTargets.has(node.name)) inputs[1] = batchTargets.get(node.name) as string;
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
    if (node.op === 'BatchMoments') {
      if (batch !== undefined) throw new Error(`dynamicBatch: BatchMoments '${node.name}' is lowered with a fixed batch`);
      return lowerBatchMoments(node, inputs, node.outputs.map(ref), (t) => extraInitializers.push(t));
    }
    if (nchwcEligible(graph, node, block)) {
      usesNchwc = true;
      return lowerConvToNchwc(node, inputs, node.outputs.map(ref), attrs, block, (t) => extraInitializers.push(t));
    }
    return [{ name: node.name, opType: node.op, input: inputs, output: node.outputs.map(ref), attribute: attrs }];
  });
  for (const { from, to } of identities)
    nodeProtos.push({ name: `output/${to}`, opType: 'Identity', input: [ref({ name: from } as Tensor)], output: [to] });

  // Constants the written nodes read (a Reshape target replaced for dynamicBatch is not one of them).
  const referenced = new Set(nodeProtos.flatMap((n) => n.input ?? []));
  const model: onnxProto.onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: options.producer ?? 'speech-emotion',
    opsetImport: [{ domain: '', version: OPSET }, ...(usesNchwc ? [{ domain: NCHWC, version: 1 }] : [])],
    graph: {
      name: graph.name,
      node: nodeProtos,
      // Every declared input stays (even if unused) so the feed contract does not depend on the outputs.
      input: graph.inputs.map((t) => valueInfo(t.name, t.dtype, t.shape, batch)),
      initializer: [
        ...graph.constants
          .filter((c) => referenced.has(c.tensor.name))
          .map((c) => tensorProto(c.tensor.name, c.tensor.dtype, c.tensor.shape, c.data)),
        ...extraInitializers,
      ],
      output: graph.outputs.map(({ name, tensor }) => valueInfo(name, tensor.dtype, tensor.shape, batch)),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}
