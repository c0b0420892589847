/**
 * The graph: a list of nodes over symbolic tensors with STATIC shapes (batch size fixed per graph).
 *
 * A `Graph` records nodes in creation order, which is already a topological order (a node can only
 * use tensors that exist). Tensors are plain records `{graph, name, shape, dtype}`; ops (ops.ts) are free
 * functions that infer the output shape and dtype, throw `SerError('ESHAPE', 'graph', ...)` naming the op
 * at build time, and append a node. Parameters and optimizer state are ordinary graph inputs fed on every
 * run, so one ONNX Runtime session runs a whole training step and returns the updated state as outputs.
 */
import { SerError } from '../errors.js';
import { sizeOf } from '../shape.js';

/** Element types the graph supports (ONNX TensorProto.DataType subset). */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

/** Host array type per dtype (bool as Uint8Array of 0/1, the layout ONNX Runtime uses). */
export type HostArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** A symbolic tensor: the value produced by one node output, a graph input or a constant. */
export interface Tensor {
  readonly graph: Graph;
  /** Unique name inside the graph; the ONNX value name. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** ONNX attribute values: numbers are ints when `Number.isInteger` unless listed in the node's `floatAttrs`. */
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | { tensor: HostArray; dtype: DType };

/** One recorded op. `op` is the ONNX op type; `inputs` may contain null for an omitted optional input. */
export interface Node {
  readonly op: string;
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** A constant tensor (ONNX initializer). */
export interface ConstantValue {
  readonly tensor: Tensor;
  readonly data: HostArray;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export { sizeOf };

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws the build-time shape/dtype error: `graph: <op>: <message>`. */
export function shapeError(op: string, message: string): never {
  throw new SerError('ESHAPE', 'graph', `${op}: ${message}`);
}

function checkShape(what: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) shapeError(what, `shape ${shapeString(shape)} must be non-negative integers (static shapes only)`);
  }
}

const HOST_TYPES: Record<DType, (n: number) => HostArray> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
  int64: (n) => new BigInt64Array(n),
  bool: (n) => new Uint8Array(n),
};

/** A zero-filled host array of `dtype` with `n` elements. */
export function hostArray(dtype: DType, n: number): HostArray {
  return HOST_TYPES[dtype](n);
}

function toHost(data: HostArray | readonly number[] | readonly bigint[], dtype: DType): HostArray {
  if (!Array.isArray(data)) return data as HostArray;
  const out = hostArray(dtype, data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number | bigint;
    if (out instanceof BigInt64Array) out[i] = BigInt(v);
    else (out as Float32Array)[i] = Number(v);
  }
  return out;
}

/** The DType of a host typed array (Uint8Array is taken as bool). */
export function dtypeOfHost(data: HostArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  return 'bool';
}

/** A graph under construction: inputs, constants, nodes (topologically ordered), named outputs. */
export class Graph {
  readonly name: string;
  readonly inputs: Tensor[] = [];
  readonly constants: ConstantValue[] = [];
  readonly nodes: Node[] = [];
  readonly outputs: { name: string; tensor: Tensor }[] = [];
  /** Tensors made by `detach`: autodiff stops there. */
  readonly detached = new Set<string>();
  /** Producer node of each node-output tensor name. */
  private readonly producers = new Map<string, Node>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();
  private readonly scopes: string[] = [];
  private counter = 0;

  constructor(name = 'speech_emotion') {
    this.name = name;
  }

  /** Runs `build` with `prefix` prepended to the names of everything it creates (`enc.layers.0/MatMul_12`). */
  scope<T>(prefix: string, build: () => T): T {
    this.scopes.push(prefix);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** A fresh unique name `<scope>/<base>_<n>` (or `base` itself when `exact` and still free). */
  uniqueName(base: string, exact = false): string {
    const prefix = this.scopes.length > 0 ? `${this.scopes.join('/')}/` : '';
    if (exact && !this.names.has(base)) {
      this.names.add(base);
      return base;
    }
    let name: string;
    do name = `${prefix}${base}_${this.counter++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private tensor(name: string, shape: readonly number[], dtype: DType): Tensor {
    checkShape(name, shape);
    return Object.freeze({ graph: this, name, shape: Object.freeze([...shape]), dtype });
  }

  /** A graph input fed at every run (data, labels, parameters, optimizer state). The name is kept exactly. */
  input(name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (this.names.has(name)) shapeError('input', `name '${name}' is already used in graph '${this.name}'`);
    this.names.add(name);
    const t = this.tensor(name, shape, dtype);
    this.inputs.push(t);
    return t;
  }

  /** A constant (ONNX initializer). `data` length must equal the shape's size; dtype defaults from the array type. */
  constant(data: HostArray | readonly number[] | readonly bigint[], shape: readonly number[], dtype?: DType, name = 'const'): Tensor {
    const type = dtype ?? (Array.isArray(data) ? 'float32' : dtypeOfHost(data as HostArray));
    const host = toHost(data, type);
    if (dtypeOfHost(host) !== type && !(type === 'bool' && host instanceof Uint8Array)) {
      shapeError('constant', `data is ${host.constructor.name} but dtype is ${type}`);
    }
    if (host.length !== sizeOf(shape)) shapeError('constant', `${host.length} values do not fill shape ${shapeString(shape)}`);
    const t = this.tensor(this.uniqueName(name), shape, type);
    this.constants.push({ tensor: t, data: host });
    return t;
  }

  /** A scalar constant (shape []), shared per (value, dtype). */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : value}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      const data = hostArray(dtype, 1);
      if (data instanceof BigInt64Array) data[0] = BigInt(value);
      else data[0] = value;
      t = this.constant(data, [], dtype, 'scalar');
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Declares a graph output `name` with the value of `tensor`. */
  output(name: string, tensor: Tensor): void {
    if (tensor.graph !== this) shapeError('output', `tensor '${tensor.name}' belongs to another graph`);
    if (this.outputs.some((o) => o.name === name)) shapeError('output', `output '${name}' is declared twice`);
    const clash = [...this.inputs, ...this.constants.map((c) => c.tensor)].find((t) => t.name === name);
    if (clash) shapeError('output', `output name '${name}' is already the name of an input or constant (ONNX value names are unique)`);
    this.outputs.push({ name, tensor });
  }

  /** Appends a node; called by the ops in ops.ts after shape inference. Returns its output tensors. */
  addNode(
    op: string,
    inputs: readonly (Tensor | null)[],
    outputs: readonly { shape: readonly number[]; dtype: DType }[],
    attrs: Record<string, AttrValue> = {},
  ): Tensor[] {
    for (const t of inputs) {
      if (t && t.graph !== this) shapeError(op, `input '${t.name}' belongs to another graph`);
    }
    const nodeName = this.uniqueName(op);
    const outs = outputs.map((o, i) => this.tensor(outputs.length === 1 ? `${nodeName}` : `${nodeName}:${i}`, o.shape, o.dtype));
    for (const t of outs) this.names.add(t.name);
    const node: Node = Object.freeze({ op, name: nodeName, inputs: [...inputs], outputs: outs, attrs });
    this.nodes.push(node);
    for (const t of outs) this.producers.set(t.name, node);
    return outs;
  }

  /** The node producing `tensor`, or undefined for inputs and constants. */
  producer(tensor: Tensor): Node | undefined {
    return this.producers.get(tensor.name);
  }

  /** The host data of a constant tensor, or undefined when it is not a constant. */
  constantData(tensor: Tensor): HostArray | undefined {
    return this.constants.find((c) => c.tensor.name === tensor.name)?.data;
  }
}
