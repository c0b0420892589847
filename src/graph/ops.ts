/**
 * Primitive ops: each maps 1:1 to one ONNX op (opset 17; the one exception, batchMoments, is written by toOnnx as
 * a few ONNX nodes), infers the output shape/dtype and throws
 * `SerError('ESHAPE', 'graph', '<op>: ...')` at build time. Gradient rules live in gradients.ts, keyed by
 * the ONNX op type. Binary arithmetic broadcasts like numpy/ONNX; a plain number operand becomes a shared
 * scalar constant of the other operand's dtype.
 */
import { type AttrValue, type DType, type Graph, type Tensor, hostArray, isFloat, shapeError, shapeString, sizeOf } from './graph.js';

type Operand = Tensor | number;

function graphOf(op: string, ...operands: (Tensor | number | null | undefined)[]): Graph {
  let graph: Graph | undefined;
  for (const t of operands) {
    if (t === null || t === undefined || typeof t === 'number') continue;
    if (graph && t.graph !== graph) shapeError(op, `'${t.name}' belongs to another graph`);
    graph = t.graph;
  }
  if (!graph) return shapeError(op, 'needs at least one tensor operand');
  return graph;
}

function one(op: string, inputs: (Tensor | null)[], shape: readonly number[], dtype: DType, attrs: Record<string, AttrValue> = {}): Tensor {
  const g = graphOf(op, ...inputs);
  return g.addNode(op, inputs, [{ shape, dtype }], attrs)[0] as Tensor;
}

function requireFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (!isFloat(t.dtype)) shapeError(op, `'${t.name}' is ${t.dtype}; ${op} needs float32 or float64`);
  }
}

function sameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) shapeError(op, `dtype mismatch: '${a.name}' is ${a.dtype}, '${b.name}' is ${b.dtype} (cast one explicitly)`);
}

function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) shapeError(op, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** numpy broadcast of two shapes; throws naming the op. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      shapeError(op, `shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (dim ${i} is ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  const g = graphOf(op, a, b);
  const ref = (typeof a === 'number' ? b : a) as Tensor;
  const ta = typeof a === 'number' ? g.scalar(a, ref.dtype) : a;
  const tb = typeof b === 'number' ? g.scalar(b, ref.dtype) : b;
  sameDtype(op, ta, tb);
  return [ta, tb];
}

function binary(op: string, a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(op, a, b);
  return one(op, [ta, tb], broadcastShapes(op, ta.shape, tb.shape), ta.dtype);
}

// ---- elementwise arithmetic ---------------------------------------------------------------------------

/** a + b (broadcast). */
export const add = (a: Operand, b: Operand): Tensor => binary('Add', a, b);
/** a - b (broadcast). */
export const sub = (a: Operand, b: Operand): Tensor => binary('Sub', a, b);
/** a * b (broadcast). */
export const mul = (a: Operand, b: Operand): Tensor => binary('Mul', a, b);
/** a / b (broadcast). */
export const div = (a: Operand, b: Operand): Tensor => binary('Div', a, b);
/** a ** b (broadcast, float). */
export function pow(a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands('Pow', a, b);
  requireFloat('Pow', ta);
  return one('Pow', [ta, tb], broadcastShapes('Pow', ta.shape, tb.shape), ta.dtype);
}

function unary(op: string, x: Tensor, float = true): Tensor {
  if (float) requireFloat(op, x);
  return one(op, [x], x.shape, x.dtype);
}

/** -x. */
export const neg = (x: Tensor): Tensor => unary('Neg', x, false);
/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unary('Relu', x);
/** e^x. */
export const exp = (x: Tensor): Tensor => unary('Exp', x);
/** natural log. */
export const log = (x: Tensor): Tensor => unary('Log', x);
/** square root. */
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x);
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x);
/** tanh. */
export const tanh = (x: Tensor): Tensor => unary('Tanh', x);
/** logistic sigmoid. */
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x);
/** error function (for exact GELU). */
export const erf = (x: Tensor): Tensor => unary('Erf', x);
/** |x|. */
export const abs = (x: Tensor): Tensor => unary('Abs', x, false);
/** sign(x) in {-1, 0, 1}. */
export const sign = (x: Tensor): Tensor => unary('Sign', x, false);
/** Copy of x (a named pass-through; ORT removes it). */
export const identity = (x: Tensor): Tensor => unary('Identity', x, false);
/** x with gradients blocked: autodiff treats the result as a constant (torch `.detach()`). */
export function detach(x: Tensor): Tensor {
  const y = unary('Identity', x, false);
  x.graph.detached.add(y.name);
  return y;
}

// ---- comparisons, selection, casts (no gradient through bool) -----------------------------------------

function compare(op: string, a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(op, a, b);
  return one(op, [ta, tb], broadcastShapes(op, ta.shape, tb.shape), 'bool');
}
/** a == b -> bool (broadcast). */
export const equal = (a: Operand, b: Operand): Tensor => compare('Equal', a, b);
/** a < b -> bool (broadcast). */
export const less = (a: Operand, b: Operand): Tensor => compare('Less', a, b);
/** a > b -> bool (broadcast). */
export const greater = (a: Operand, b: Operand): Tensor => compare('Greater', a, b);

/** condition ? a : b (broadcast over all three). */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  if (condition.dtype !== 'bool') shapeError('Where', `condition '${condition.name}' is ${condition.dtype}, expected bool`);
  const [ta, tb] = operands('Where', a, b);
  const shape = broadcastShapes('Where', condition.shape, broadcastShapes('Where', ta.shape, tb.shape));
  return one('Where', [condition, ta, tb], shape, ta.dtype);
}

const ONNX_DTYPE_CODE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

/** Element type conversion. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return one('Cast', [x], x.shape, dtype, { to: ONNX_DTYPE_CODE[dtype] });
}

// ---- linear algebra and convolution ---------------------------------------------------------------------

/** Batched matrix product [..., M, K] x [..., K, N] -> [..., M, N]; batch dims broadcast. Both ranks >= 2. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat('MatMul', a, b);
  sameDtype('MatMul', a, b);
  if (a.shape.length < 2 || b.shape.length < 2) {
    shapeError(
      'MatMul',
      `operands need rank >= 2, got ${shapeString(a.shape)} x ${shapeString(b.shape)} (reshape vectors to [1,K] / [K,1])`,
    );
  }
  const m = a.shape[a.shape.length - 2] as number;
  const k = a.shape[a.shape.length - 1] as number;
  const k2 = b.shape[b.shape.length - 2] as number;
  const n = b.shape[b.shape.length - 1] as number;
  if (k !== k2) shapeError('MatMul', `inner dimensions differ: ${shapeString(a.shape)} x ${shapeString(b.shape)} (${k} vs ${k2})`);
  const batch = broadcastShapes('MatMul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return one('MatMul', [a, b], [...batch, m, n], a.dtype);
}

/** Pads as ONNX order [top, left, bottom, right]; a number means the same on every side. */
export type Pads2d = number | readonly [number, number, number, number];

export interface Conv2dOptions {
  /** Zero padding, default 0. PyTorch `padding=p` is `pads: p`. */
  pads?: Pads2d;
  /** [strideH, strideW], default [1,1]. */
  strides?: readonly [number, number];
  /** Channel groups, default 1 (gradients support group 1 only). */
  group?: number;
}

function pads4(pads: Pads2d | undefined): [number, number, number, number] {
  if (pads === undefined) return [0, 0, 0, 0];
  if (typeof pads === 'number') return [pads, pads, pads, pads];
  return [...pads] as [number, number, number, number];
}

/**
 * 2-D convolution (cross-correlation, like PyTorch): x [N, Cin, H, W], weight [Cout, Cin/group, kH, kW],
 * bias [Cout] or null -> [N, Cout, Ho, Wo], Ho = floor((H + padTop + padBottom - kH) / strideH) + 1.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  requireFloat('Conv', x, weight);
  sameDtype('Conv', x, weight);
  if (x.shape.length !== 4) shapeError('Conv', `input ${shapeString(x.shape)} must be [N, C, H, W]`);
  if (weight.shape.length !== 4) shapeError('Conv', `weight ${shapeString(weight.shape)} must be [Cout, Cin, kH, kW]`);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [cout, wcin, kh, kw] = weight.shape as [number, number, number, number];
  const group = options.group ?? 1;
  if (cin !== wcin * group) {
    shapeError('Conv', `input ${shapeString(x.shape)} has ${cin} channels but weight ${shapeString(weight.shape)} expects ${wcin * group}`);
  }
  if (bias) {
    sameDtype('Conv', x, bias);
    if (bias.shape.length !== 1 || bias.shape[0] !== cout) shapeError('Conv', `bias ${shapeString(bias.shape)} must be [${cout}]`);
  }
  const pads = pads4(options.pads);
  const strides = options.strides ?? [1, 1];
  const ho = Math.floor((h + pads[0] + pads[2] - kh) / strides[0]) + 1;
  const wo = Math.floor((w + pads[1] + pads[3] - kw) / strides[1]) + 1;
  if (ho < 1 || wo < 1) shapeError('Conv', `kernel [${kh},${kw}] does not fit input ${shapeString(x.shape)} with pads [${pads.join(',')}]`);
  const attrs: Record<string, AttrValue> = { kernel_shape: [kh, kw], pads, strides: [...strides], dilations: [1, 1], group };
  return one('Conv', bias ? [x, weight, bias] : [x, weight], [n, cout, ho, wo], x.dtype, attrs);
}

export interface ConvTranspose2dOptions {
  pads?: Pads2d;
  strides?: readonly [number, number];
  /** The exact output [H, W] (resolves the stride ambiguity); default the minimal size. */
  outputSize?: readonly [number, number];
}

/**
 * Transposed convolution (the adjoint of conv2d with the same weight and options): dy [N, Cout, Ho, Wo],
 * weight [Cout, Cin, kH, kW] -> [N, Cin, H, W]. Used for conv2d's input gradient.
 */
export function convTranspose2d(dy: Tensor, weight: Tensor, options: ConvTranspose2dOptions = {}): Tensor {
  requireFloat('ConvTranspose', dy, weight);
  sameDtype('ConvTranspose', dy, weight);
  if (dy.shape.length !== 4 || weight.shape.length !== 4) {
    shapeError('ConvTranspose', `input ${shapeString(dy.shape)} and weight ${shapeString(weight.shape)} must both be rank 4`);
  }
  const [n, c, ho, wo] = dy.shape as [number, number, number, number];
  const [wc, cin, kh, kw] = weight.shape as [number, number, number, number];
  if (c !== wc)
    shapeError('ConvTranspose', `input ${shapeString(dy.shape)} has ${c} channels but weight ${shapeString(weight.shape)} has ${wc}`);
  const pads = pads4(options.pads);
  const strides = options.strides ?? [1, 1];
  const minH = (ho - 1) * strides[0] + kh - pads[0] - pads[2];
  const minW = (wo - 1) * strides[1] + kw - pads[1] - pads[3];
  const [h, w] = options.outputSize ?? [minH, minW];
  const extraH = h - minH;
  const extraW = w - minW;
  if (extraH < 0 || extraW < 0 || extraH >= strides[0] || extraW >= strides[1]) {
    shapeError('ConvTranspose', `output size [${h},${w}] is not reachable from ${shapeString(dy.shape)} (minimum [${minH},${minW}])`);
  }
  const attrs: Record<string, AttrValue> = {
    kernel_shape: [kh, kw],
    pads,
    strides: [...strides],
    dilations: [1, 1],
    output_padding: [extraH, extraW],
  };
  return one('ConvTranspose', [dy, weight], [n, cin, h, w], dy.dtype, attrs);
}

export interface MaxPool2dOptions {
  /** [kH, kW]. */
  kernel: readonly [number, number];
  /** Default = kernel (PyTorch's default). */
  strides?: readonly [number, number];
}

function poolShape(op: string, x: Tensor, options: MaxPool2dOptions): { shape: number[]; attrs: Record<string, AttrValue> } {
  requireFloat(op, x);
  if (x.shape.length !== 4) shapeError(op, `input ${shapeString(x.shape)} must be [N, C, H, W]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = options.kernel;
  const strides = options.strides ?? options.kernel;
  // floor mode, no padding: PyTorch MaxPool2d(k) drops the remainder rows/columns.
  const ho = Math.floor((h - kh) / strides[0]) + 1;
  const wo = Math.floor((w - kw) / strides[1]) + 1;
  if (ho < 1 || wo < 1) shapeError(op, `kernel [${kh},${kw}] is larger than input ${shapeString(x.shape)}`);
  return { shape: [n, c, ho, wo], attrs: { kernel_shape: [kh, kw], strides: [...strides], pads: [0, 0, 0, 0] } };
}

/** Max pooling, floor mode, no padding: x [N, C, H, W] -> [N, C, floor((H-kH)/sH)+1, ...]. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  const { shape, attrs } = poolShape('MaxPool', x, options);
  return one('MaxPool', [x], shape, x.dtype, attrs);
}

/** Max pooling that also returns int64 indices into the flattened input (ONNX MaxPool's second output). */
export function maxPool2dWithIndices(x: Tensor, options: MaxPool2dOptions): { values: Tensor; indices: Tensor } {
  const { shape, attrs } = poolShape('MaxPool', x, options);
  const [values, indices] = x.graph.addNode(
    'MaxPool',
    [x],
    [
      { shape, dtype: x.dtype },
      { shape, dtype: 'int64' },
    ],
    attrs,
  ) as [Tensor, Tensor];
  return { values, indices };
}

/**
 * Inverse of max pooling: writes x [N, C, Ho, Wo] at the flat `indices` (from maxPool2dWithIndices) into
 * zeros of `outputShape` [N, C, H, W] (ONNX MaxUnpool). Used for MaxPool's gradient.
 */
export function maxUnpool2d(
  x: Tensor,
  indices: Tensor,
  options: { kernel: readonly [number, number]; strides?: readonly [number, number]; outputShape: readonly number[] },
): Tensor {
  requireFloat('MaxUnpool', x);
  if (indices.dtype !== 'int64' || indices.shape.some((d, i) => d !== x.shape[i]) || indices.shape.length !== x.shape.length) {
    shapeError(
      'MaxUnpool',
      `indices ${indices.dtype} ${shapeString(indices.shape)} must be int64 of the input's shape ${shapeString(x.shape)}`,
    );
  }
  const strides = options.strides ?? options.kernel;
  const shapeT = x.graph.constant(BigInt64Array.from(options.outputShape.map(BigInt)), [options.outputShape.length], 'int64', 'shape');
  const attrs = { kernel_shape: [...options.kernel], strides: [...strides], pads: [0, 0, 0, 0] };
  return one('MaxUnpool', [x, indices, shapeT], options.outputShape, x.dtype, attrs);
}

// ---- reductions ----------------------------------------------------------------------------------------

function reduce(op: string, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const rank = x.shape.length;
  const norm = [...new Set(axes.map((a) => normAxis(op, a, rank)))].sort((p, q) => p - q);
  const shape: number[] = [];
  x.shape.forEach((d, i) => {
    if (!norm.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return one(op, [x], shape, x.dtype, { axes: norm, keepdims: keepdims ? 1 : 0 });
}

/** Sum over `axes` (negative allowed). */
export const reduceSum = (x: Tensor, axes: readonly number[], keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
/** Mean over `axes`. */
export const reduceMean = (x: Tensor, axes: readonly number[], keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
/** Max over `axes` (gradient split evenly between ties, like torch.amax). */
export const reduceMax = (x: Tensor, axes: readonly number[], keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);

/**
 * Per-channel batch moments of x [N, C, H, W]: [2, C], row 0 the mean and row 1 the BIASED variance over
 * (N, H, W), computed as E[x^2] - E[x]^2. The one op here that is not a single ONNX op: toOnnx writes it as
 * ReduceSum + ReduceSumSquare over image rows, summed on in float64, and a few [C]-sized nodes (onnx.ts
 * lowerBatchMoments): two multi-threaded reads of x and no full-size write (ORT's train-mode BatchNormalization computes its statistics on one thread and writes the normalised
 * tensor too). Its gradient (gradients.ts) is one per-channel affine map of x. E[x^2] - E[x]^2 cancels when
 * |mean| >> std: give it x shifted near its mean (src/nn folds such a shift into the producing conv's bias).
 */
export function batchMoments(x: Tensor): Tensor {
  requireFloat('BatchMoments', x);
  if (x.shape.length !== 4) shapeError('BatchMoments', `x is ${shapeString(x.shape)}, expected [N, C, H, W]`);
  return one('BatchMoments', [x], [2, x.shape[1] as number], x.dtype);
}

/**
 * Layer normalisation over the last axis (ONNX LayerNormalization, opset 17; biased variance like torch):
 * (x - mean) / sqrt(var + eps) * gamma + beta with gamma, beta [D]. One fused ORT kernel; the node's Mean and
 * InvStdDev outputs ([..., 1]) serve its gradient rule.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  requireFloat('LayerNormalization', x, gamma, beta);
  const d = x.shape[x.shape.length - 1];
  if (d === undefined || gamma.shape.length !== 1 || gamma.shape[0] !== d || beta.shape.length !== 1 || beta.shape[0] !== d) {
    shapeError(
      'LayerNormalization',
      `gamma ${shapeString(gamma.shape)} and beta ${shapeString(beta.shape)} must be [${d}] for x ${shapeString(x.shape)}`,
    );
  }
  sameDtype('LayerNormalization', x, gamma);
  sameDtype('LayerNormalization', x, beta);
  const stats = [...x.shape.slice(0, -1), 1];
  const [y] = x.graph.addNode(
    'LayerNormalization',
    [x, gamma, beta],
    [
      { shape: x.shape, dtype: x.dtype },
      // ONNX types Mean and InvStdDev by stash_type: float32 (its default) for every input type
      { shape: stats, dtype: 'float32' },
      { shape: stats, dtype: 'float32' },
    ],
    { axis: -1, epsilon: { float: eps } },
  );
  return y as Tensor;
}

/** Softmax along one axis (ONNX opset 13 semantics). */
export function softmax(x: Tensor, axis = -1): Tensor {
  requireFloat('Softmax', x);
  return one('Softmax', [x], x.shape, x.dtype, { axis: normAxis('Softmax', axis, x.shape.length) });
}

/** log(softmax(x)) along one axis, computed stably. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  requireFloat('LogSoftmax', x);
  return one('LogSoftmax', [x], x.shape, x.dtype, { axis: normAxis('LogSoftmax', axis, x.shape.length) });
}

// ---- shape ops -------------------------------------------------------------------------------------------

/** Reshape to `shape` (one -1 allowed; sizes must match). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  const total = sizeOf(x.shape);
  const knownSize = sizeOf(known);
  if (free > 1 || known.some((d) => d < 0 || !Number.isInteger(d)))
    shapeError('Reshape', `target ${shapeString(shape)} may contain at most one -1`);
  const out = shape.map((d) => (d === -1 ? total / knownSize : d));
  if (sizeOf(out) !== total || out.some((d) => !Number.isInteger(d))) {
    shapeError('Reshape', `cannot reshape ${shapeString(x.shape)} (${total} elements) to ${shapeString(shape)}`);
  }
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  const target = x.graph.constant(BigInt64Array.from(out.map((d) => BigInt(d))), [out.length], 'int64', 'shape');
  return one('Reshape', [x, target], out, x.dtype);
}

/** Permute axes: out.shape[i] = x.shape[perm[i]]. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.shape.length;
  const sorted = [...perm].sort((p, q) => p - q);
  if (perm.length !== rank || sorted.some((p, i) => p !== i)) {
    shapeError('Transpose', `perm [${perm.join(',')}] is not a permutation of the ${rank} axes of ${shapeString(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  return one(
    'Transpose',
    [x],
    perm.map((p) => x.shape[p] as number),
    x.dtype,
    { perm: [...perm] },
  );
}

/** Concatenate along `axis`; all other dims must match. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const first = tensors[0];
  if (!first) return shapeError('Concat', 'needs at least one tensor');
  const rank = first.shape.length;
  const ax = normAxis('Concat', axis, rank);
  let size = 0;
  for (const t of tensors) {
    sameDtype('Concat', first, t);
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      shapeError('Concat', `shapes ${tensors.map((u) => shapeString(u.shape)).join(', ')} differ outside axis ${ax}`);
    }
    size += t.shape[ax] as number;
  }
  if (tensors.length === 1) return first;
  const shape = [...first.shape];
  shape[ax] = size;
  return one('Concat', [...tensors], shape, first.dtype, { axis: ax });
}

/** Static slice: for each listed axis keep [start, end) with step (default 1; positive steps only). */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[],
  steps?: readonly number[],
): Tensor {
  const rank = x.shape.length;
  if (starts.length !== axes.length || ends.length !== axes.length || (steps && steps.length !== axes.length)) {
    shapeError('Slice', 'starts, ends, axes (and steps) must have equal lengths');
  }
  const shape = [...x.shape];
  const s: number[] = [];
  const e: number[] = [];
  const ax: number[] = [];
  const st: number[] = [];
  axes.forEach((a, i) => {
    const axis = normAxis('Slice', a, rank);
    const dim = x.shape[axis] as number;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clamp(starts[i] as number);
    const end = clamp(ends[i] as number);
    const step = steps?.[i] ?? 1;
    if (step < 1) shapeError('Slice', `step ${step} must be positive`);
    shape[axis] = Math.max(0, Math.ceil((end - start) / step));
    s.push(start);
    e.push(end);
    ax.push(axis);
    st.push(step);
  });
  const g = x.graph;
  const i64 = (v: number[]): Tensor => g.constant(BigInt64Array.from(v.map(BigInt)), [v.length], 'int64', 'slice');
  return one('Slice', [x, i64(s), i64(e), i64(ax), i64(st)], shape, x.dtype);
}

/** Zero padding: `pads` = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] (non-negative). */
export function pad(x: Tensor, pads: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (pads.length !== 2 * rank || pads.some((p) => p < 0 || !Number.isInteger(p))) {
    shapeError('Pad', `pads [${pads.join(',')}] must be ${2 * rank} non-negative integers for ${shapeString(x.shape)}`);
  }
  if (pads.every((p) => p === 0)) return x;
  const shape = x.shape.map((d, i) => d + (pads[i] as number) + (pads[i + rank] as number));
  const padsT = x.graph.constant(BigInt64Array.from(pads.map(BigInt)), [pads.length], 'int64', 'pads');
  return one('Pad', [x, padsT], shape, x.dtype, { mode: 'constant' });
}

/** Broadcast x to `shape` (numpy rules). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  if (out.length === x.shape.length && out.every((d, i) => d === x.shape[i])) return x;
  const target = x.graph.constant(BigInt64Array.from(shape.map(BigInt)), [shape.length], 'int64', 'shape');
  return one('Expand', [x, target], out, x.dtype);
}

/** A tensor of `shape` filled with `value` (ONNX ConstantOfShape; no initializer of that size in the model). */
export function full(graph: Graph, shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  const dims = graph.constant(BigInt64Array.from(shape.map(BigInt)), [shape.length], 'int64', 'shape');
  const fill = hostArray(dtype, 1);
  if (fill instanceof BigInt64Array) fill[0] = BigInt(value);
  else fill[0] = value;
  return one('ConstantOfShape', [dims], shape, dtype, { value: { tensor: fill, dtype } });
}

// ---- indexing ------------------------------------------------------------------------------------------

function requireIndex(op: string, indices: Tensor): void {
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32')
    shapeError(op, `indices '${indices.name}' are ${indices.dtype}, expected int64 or int32`);
}

/** numpy take: out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  requireIndex('Gather', indices);
  const ax = normAxis('Gather', axis, x.shape.length);
  const shape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  return one('Gather', [x, indices], shape, x.dtype, { axis: ax });
}

/** out[i][j] = x[indices[i][j]][j] (axis 0) etc.; out.shape = indices.shape. */
export function gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
  requireIndex('GatherElements', indices);
  const ax = normAxis('GatherElements', axis, x.shape.length);
  if (indices.shape.length !== x.shape.length) {
    shapeError('GatherElements', `indices ${shapeString(indices.shape)} must have the rank of x ${shapeString(x.shape)}`);
  }
  return one('GatherElements', [x, indices], indices.shape, x.dtype, { axis: ax });
}

/** Copy of `data` with `updates` written (or added, reduction 'add') at `indices` along `axis`. */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: 'none' | 'add' = 'none'): Tensor {
  requireIndex('ScatterElements', indices);
  sameDtype('ScatterElements', data, updates);
  const ax = normAxis('ScatterElements', axis, data.shape.length);
  if (indices.shape.length !== data.shape.length || indices.shape.some((d, i) => d !== updates.shape[i])) {
    shapeError(
      'ScatterElements',
      `indices ${shapeString(indices.shape)} and updates ${shapeString(updates.shape)} must match, rank of data ${shapeString(data.shape)}`,
    );
  }
  return one('ScatterElements', [data, indices, updates], data.shape, data.dtype, { axis: ax, reduction });
}

/**
 * One-hot along a new last axis: indices [...] -> [..., depth] of `dtype` (1 at the index, 0 elsewhere).
 * Built as Cast(Equal(indices[..., None], [0..depth))) rather than ONNX OneHot, whose ORT CPU kernel has no
 * float64 output and a fixed table of index/depth type combinations.
 */
export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  requireIndex('OneHot', indices);
  const g = indices.graph;
  const range = Array.from({ length: depth }, (_, i) => i);
  const classes = g.constant(
    indices.dtype === 'int64' ? BigInt64Array.from(range.map(BigInt)) : Int32Array.from(range),
    [depth],
    indices.dtype,
    'classes',
  );
  return cast(equal(reshape(indices, [...indices.shape, 1]), classes), dtype);
}
