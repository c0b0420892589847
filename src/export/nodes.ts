/**
 * A minimal ONNX node writer for graphs with DYNAMIC shapes (the end-to-end model's `samples` axis), which
 * src/graph (static shapes, shape inference at build time) cannot express. It only appends NodeProtos and
 * initializers with fresh names; shapes are ONNX Runtime's business. Numbers come from src/features (the
 * front end's own constants), never from here.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;
const FLOAT = 1;
const INT64 = 7;

/** Attribute values: an integer, a list of integers, or a float written as { float }. */
export type NodeAttr = number | readonly number[] | { float: number };

export class OnnxNodes {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private count = 0;

  /** Every name this writer makes starts with `prefix` (no clash with the spliced model's names). */
  constructor(private readonly prefix: string) {}

  /** Appends one node; returns its output names (`outputs` of them). */
  node(op: string, inputs: readonly string[], attrs: Readonly<Record<string, NodeAttr>> = {}, outputs = 1): string[] {
    const name = `${this.prefix}${op.toLowerCase()}_${this.count++}`;
    const out = Array.from({ length: outputs }, (_, i) => (outputs === 1 ? name : `${name}_${i}`));
    const attribute = Object.entries(attrs).map(([key, value]): onnxProto.onnx.IAttributeProto => {
      if (typeof value === 'number') return { name: key, type: A.INT, i: value };
      if ('float' in value) return { name: key, type: A.FLOAT, f: value.float };
      return { name: key, type: A.INTS, ints: [...(value as readonly number[])] };
    });
    this.nodes.push({ name, opType: op, input: [...inputs], output: out, attribute });
    return out;
  }

  /** One-output node. */
  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, NodeAttr>> = {}): string {
    return this.node(op, inputs, attrs)[0] as string;
  }

  /** An int64 initializer of `values` with `shape` (default [values.length]; [] for a scalar). */
  int64(values: readonly number[], shape: readonly number[] = [values.length]): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.constant(INT64, shape, new Uint8Array(data.buffer));
  }

  /** A float32 initializer. */
  float(values: Float32Array | readonly number[], shape: readonly number[] = [values.length]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.constant(FLOAT, shape, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  private constant(dataType: number, shape: readonly number[], rawData: Uint8Array): string {
    const name = `${this.prefix}const_${this.count++}`;
    this.initializers.push({ name, dataType, dims: [...shape], rawData });
    return name;
  }
}
