/**
 * The gradient table: one rule per primitive ONNX op. A rule receives the forward node and the gradient of
 * each of its outputs (null when an output does not reach the loss) and returns one gradient per input
 * (null where there is none: integer/bool inputs, shapes, indices). Broadcasting is undone in ONE place,
 * `unbroadcast`. Ops missing from the table fail in autodiff with SerError EGRAD naming the op.
 *
 * Rules build their gradients with the same ops as the forward pass, so the backward graph is plain ONNX
 * that ORT's inference build runs (no training-only kernels).
 */
import { SerError } from '../errors.js';
import { type Node, type Tensor, sizeOf } from './graph.js';
import { im2col } from './composite.js';
import {
  add,
  cast,
  gather,
  conv2d,
  convTranspose2d,
  div,
  equal,
  exp,
  expand,
  full,
  greater,
  log,
  matmul,
  maxPool2dWithIndices,
  maxUnpool2d,
  mul,
  neg,
  pad,
  pow,
  reduceMean,
  reduceSum,
  reshape,
  scatterElements,
  sign,
  slice,
  sub,
  transpose,
  where,
} from './ops.js';

/** Gradient rule: (forward node, output gradients) -> input gradients (same order as node.inputs). */
export type GradientRule = (node: Node, outputGrads: readonly (Tensor | null)[]) => (Tensor | null)[];

/** Sums `grad` over the axes along which `shape` was broadcast, so the result has exactly `shape`. */
export function unbroadcast(grad: Tensor, shape: readonly number[]): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length > 0 ? reduceSum(grad, axes, true) : grad;
  return reshape(summed, shape);
}

const input = (node: Node, i: number): Tensor => node.inputs[i] as Tensor;
const output = (node: Node, i = 0): Tensor => node.outputs[i] as Tensor;
const ints = (node: Node, key: string): number[] => node.attrs[key] as number[];

/** The gradient of a reduction, broadcast back: reshape dy to keepdims form, then expand to x's shape. */
function expandReduced(node: Node, dy: Tensor): Tensor {
  const x = input(node, 0);
  const axes = ints(node, 'axes');
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return expand(reshape(dy, kept), x.shape);
}

function swapLast(t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1] as number, perm[r - 2] as number];
  return transpose(t, perm);
}

/** MatMul input gradients; the common "activations [.., K] x weight [K, N]" case is one GEMM for dB. */
function matmulGrads(node: Node, dy: Tensor): (Tensor | null)[] {
  const a = input(node, 0);
  const b = input(node, 1);
  const da = unbroadcast(matmul(dy, swapLast(b)), a.shape);
  let db: Tensor;
  if (b.shape.length === 2 && a.shape.length > 2) {
    const k = a.shape[a.shape.length - 1] as number;
    const n = b.shape[1] as number;
    db = matmul(transpose(reshape(a, [-1, k]), [1, 0]), reshape(dy, [-1, n]));
  } else {
    db = unbroadcast(matmul(swapLast(a), dy), b.shape);
  }
  return [da, db];
}

/**
 * Conv (group 1, stride 1, dilation 1) gradients in standard ONNX ops (ORT's inference build has no
 * training kernels). Formulations chosen by timing on the CNN-TM shapes (bench/graph-conv-grad.ts):
 *   dX = Conv(dY, W^T flipped in kH and kW, pads k-1-p): ORT's Conv beats its ConvTranspose here;
 *        ConvTranspose(dY, W) is the fallback when a pad exceeds k-1.
 *   dW = im2col + one batched MatMul: cols[b] = the kH*kW shifted copies of the padded X [B, Cin*kH*kW, H*W],
 *        made by ONE Conv of X (as B*Cin single-channel images) with constant one-hot kernels;
 *        dW^T = sum_b cols[b] x dY[b]^T [H*W, Cout]. Conv(X^T, dY^T) is ~1.7x slower (ORT runs it as GEMMs
 *        with N = kH*kW = 9), Pad + kH*kW Slices + Concat ~1.15x slower, dY x cols^T ~1.4x slower.
 *   db = ReduceSum(dY, [0, 2, 3]).
 */
function convGrads(node: Node, dy: Tensor): (Tensor | null)[] {
  const x = input(node, 0);
  const w = input(node, 1);
  const strides = ints(node, 'strides');
  const pads = ints(node, 'pads') as [number, number, number, number];
  if (node.attrs.group !== 1 || strides.some((s) => s !== 1)) {
    throw new SerError(
      'EGRAD',
      'graph',
      `Conv '${node.name}': gradients support group 1 and stride 1 only (group ${node.attrs.group}, strides [${strides}])`,
    );
  }
  const [batch, cin, height, width] = x.shape as [number, number, number, number];
  const [cout, , kh, kw] = w.shape as [number, number, number, number];
  const [ho, wo] = [dy.shape[2] as number, dy.shape[3] as number];

  const backPads = [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]] as const;
  let dx: Tensor;
  if (backPads.every((p) => p >= 0)) {
    const g = x.graph;
    const reverse = (k: number): Tensor =>
      g.constant(
        BigInt64Array.from({ length: k }, (_, i) => BigInt(k - 1 - i)),
        [k],
        'int64',
        'reverse',
      );
    const flipped = gather(gather(transpose(w, [1, 0, 2, 3]), reverse(kh), 2), reverse(kw), 3); // [Cin, Cout, kH, kW]
    dx = conv2d(dy, flipped, null, { pads: backPads });
  } else {
    dx = convTranspose2d(dy, w, { pads, outputSize: [height, width] });
  }

  const cols = im2col(x, [kh, kw], pads); // [B, Cin*kH*kW, H*W], shared with other users of the same X
  // dW^T [Cin*kH*kW, Cout] = sum_b cols[b] x dY[b]^T. MLAS packs the transposed operand, and dY [Cout, H*W] is the
  // smaller one (~1.4x faster at 16->32).
  const dwT = reduceSum(matmul(cols, transpose(reshape(dy, [batch, cout, ho * wo]), [0, 2, 1])), [0]);
  const dw = transpose(reshape(dwT, [cin, kh, kw, cout]), [3, 0, 1, 2]);
  const db = node.inputs[2] ? reduceSum(dy, [0, 2, 3]) : null;
  return [dx, dw, db];
}

/**
 * MaxPool (no padding, floor mode): PyTorch routes each window's gradient to the one element the pooling
 * picked; ONNX MaxPool's Indices output (flat over the whole input) names it, and MaxUnpool writes dY there
 * into zeros of the input's shape (rows/columns dropped by floor mode get 0). Indices come from the forward
 * node when it has them (maxPool2dWithIndices, cheaper in training graphs), else from a recomputed
 * MaxPool-with-Indices. Overlapping windows (stride < kernel) can pick one element twice, so they use
 * ScatterElements with reduction 'add'. Timings on [32,16,128,188], kernel 2, 2 threads (bench/_pool.ts at
 * the time): MaxUnpool ~15 ms, vs ~110-170 ms for Equal/Where-mask formulations and ~100+ ms for ScatterElements.
 */
function maxPoolGrads(node: Node, dy: Tensor): (Tensor | null)[] {
  const x = input(node, 0);
  const kernel = ints(node, 'kernel_shape') as [number, number];
  const strides = ints(node, 'strides') as [number, number];
  const indices = node.outputs[1] ?? maxPool2dWithIndices(x, { kernel, strides }).indices;
  if (strides[0] < kernel[0] || strides[1] < kernel[1]) {
    const zeros = full(x.graph, [sizeOf(x.shape)], 0, x.dtype);
    return [reshape(scatterElements(zeros, reshape(indices, [-1]), reshape(dy, [-1]), 0, 'add'), x.shape)];
  }
  return [maxUnpool2d(dy, indices, { kernel, strides, outputShape: x.shape })];
}

function sliceGrads(node: Node, dy: Tensor): (Tensor | null)[] {
  const x = input(node, 0);
  const data = (i: number): number[] => Array.from(x.graph.constantData(input(node, i)) as BigInt64Array, Number);
  const [starts, ends, axes, steps] = [data(1), data(2), data(3), data(4)];
  if (steps.some((s) => s !== 1)) throw new SerError('EGRAD', 'graph', `Slice '${node.name}': gradient supports step 1 only`);
  const rank = x.shape.length;
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((axis, i) => {
    pads[axis] = starts[i] as number;
    pads[axis + rank] = (x.shape[axis] as number) - (ends[i] as number);
  });
  return [pad(dy, pads), null, null, null, null];
}

function concatGrads(node: Node, dy: Tensor): (Tensor | null)[] {
  const axis = node.attrs.axis as number;
  let offset = 0;
  return node.inputs.map((t) => {
    const size = (t as Tensor).shape[axis] as number;
    const g = slice(dy, [offset], [offset + size], [axis]);
    offset += size;
    return g;
  });
}

/** One rule per primitive. `dy` = gradient of output 0. */
const TABLE: Readonly<Record<string, GradientRule>> = {
  Add: (n, [dy]) => [unbroadcast(dy!, input(n, 0).shape), unbroadcast(dy!, input(n, 1).shape)],
  Sub: (n, [dy]) => [unbroadcast(dy!, input(n, 0).shape), unbroadcast(neg(dy!), input(n, 1).shape)],
  Mul: (n, [dy]) => [unbroadcast(mul(dy!, input(n, 1)), input(n, 0).shape), unbroadcast(mul(dy!, input(n, 0)), input(n, 1).shape)],
  // y = a / b: dy/da = 1/b, dy/db = -y/b
  Div: (n, [dy]) => [
    unbroadcast(div(dy!, input(n, 1)), input(n, 0).shape),
    unbroadcast(neg(div(mul(dy!, output(n)), input(n, 1))), input(n, 1).shape),
  ],
  // y = a^b: dy/da = b a^(b-1), dy/db = y ln a
  Pow: (n, [dy]) => [
    unbroadcast(mul(dy!, mul(input(n, 1), pow(input(n, 0), sub(input(n, 1), 1)))), input(n, 0).shape),
    unbroadcast(mul(dy!, mul(output(n), log(input(n, 0)))), input(n, 1).shape),
  ],
  Neg: (_, [dy]) => [neg(dy!)],
  Identity: (_, [dy]) => [dy!],
  // dy * (y > 0): Mul with a cast mask runs ~1.7x faster in ORT than Where(y > 0, dy, 0)
  Relu: (n, [dy]) => [mul(dy!, cast(greater(output(n), 0), output(n).dtype))],
  Exp: (n, [dy]) => [mul(dy!, output(n))],
  Log: (n, [dy]) => [div(dy!, input(n, 0))],
  Sqrt: (n, [dy]) => [div(mul(dy!, 0.5), output(n))],
  Reciprocal: (n, [dy]) => [neg(mul(dy!, mul(output(n), output(n))))],
  Tanh: (n, [dy]) => [mul(dy!, sub(1, mul(output(n), output(n))))],
  Sigmoid: (n, [dy]) => [mul(dy!, mul(output(n), sub(1, output(n))))],
  // d erf(x)/dx = 2/sqrt(pi) e^(-x^2)
  Erf: (n, [dy]) => [mul(dy!, mul(exp(neg(mul(input(n, 0), input(n, 0)))), 2 / Math.sqrt(Math.PI)))],
  Abs: (n, [dy]) => [mul(dy!, sign(input(n, 0)))],
  Cast: (n, [dy]) => [cast(dy!, input(n, 0).dtype)],
  Where: (n, [dy]) => [
    null,
    unbroadcast(where(input(n, 0), dy!, 0), input(n, 1).shape),
    unbroadcast(where(input(n, 0), 0, dy!), input(n, 2).shape),
  ],
  MatMul: (n, [dy]) => matmulGrads(n, dy!),
  Conv: (n, [dy]) => convGrads(n, dy!),
  MaxPool: (n, [dy]) => maxPoolGrads(n, dy!),
  ReduceSum: (n, [dy]) => [expandReduced(n, dy!)],
  // y = xhat gamma + beta over the last axis, xhat = (x - mean) r, r = 1 / sqrt(var + eps) (the node's outputs
  // 1 and 2): dgamma = sum(dy xhat), dbeta = sum(dy) over the leading axes, and with g = dy gamma,
  // dx = r (g - mean(g) - xhat mean(g xhat)) (means over the last axis).
  LayerNormalization: (n, [dy]) => {
    const x = input(n, 0);
    const gamma = input(n, 1);
    const lead = x.shape.slice(0, -1).map((_, i) => i);
    const invStd = cast(output(n, 2), x.dtype);
    const xhat = mul(sub(x, cast(output(n, 1), x.dtype)), invStd);
    const g = mul(dy!, gamma);
    const dx = mul(invStd, sub(sub(g, reduceMean(g, [-1], true)), mul(xhat, reduceMean(mul(g, xhat), [-1], true))));
    return [dx, reduceSum(mul(dy!, xhat), lead), reduceSum(dy!, lead)];
  },
  // [mean; var] over (N, H, W) with var = E[x^2] - mean^2 (n values per channel):
  //   dx = dmean / n + dvar 2 (x - mean) / n = a x + b per channel, a = 2 dvar / n, b = dmean / n - a mean,
  // written as ONE inference-mode BatchNormalization node (mean 0, variance 1, epsilon 0: a x + b exactly), a
  // single pass over x.
  BatchMoments: (n, [dy]) => {
    const x = input(n, 0);
    const channels = x.shape[1] as number;
    const count = sizeOf(x.shape) / channels;
    const row = (t: Tensor, r: number): Tensor => reshape(slice(t, [r], [r + 1], [0]), [channels]);
    const scale = mul(row(dy!, 1), 2 / count);
    const bias = sub(div(row(dy!, 0), count), mul(scale, row(output(n), 0)));
    const g = x.graph;
    const [dx] = g.addNode(
      'BatchNormalization',
      [x, scale, bias, full(g, [channels], 0, x.dtype), full(g, [channels], 1, x.dtype)],
      [{ shape: x.shape, dtype: x.dtype }],
      { epsilon: { float: 0 } },
    );
    return [dx as Tensor];
  },
  ReduceMean: (n, [dy]) => {
    const x = input(n, 0);
    const count = ints(n, 'axes').reduce((c, a) => c * (x.shape[a] as number), 1);
    return [expandReduced(n, div(dy!, count))];
  },
  // torch.amax semantics: the gradient is split evenly between tied maxima. y and dy stay in keepdims form and
  // broadcast (no full-size Expand); the division runs on the reduced tensor.
  ReduceMax: (n, [dy]) => {
    const x = input(n, 0);
    const axes = ints(n, 'axes');
    const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const ties = cast(equal(x, reshape(output(n), kept)), x.dtype);
    return [mul(ties, div(reshape(dy!, kept), reduceSum(ties, axes, true)))];
  },
  // y = softmax(x): dx = y (dy - sum(dy y))
  Softmax: (n, [dy]) => [mul(output(n), sub(dy!, reduceSum(mul(dy!, output(n)), [n.attrs.axis as number], true)))],
  // y = log softmax(x): dx = dy - e^y sum(dy)
  LogSoftmax: (n, [dy]) => [sub(dy!, mul(exp(output(n)), reduceSum(dy!, [n.attrs.axis as number], true)))],
  Reshape: (n, [dy]) => [reshape(dy!, input(n, 0).shape), null],
  Transpose: (n, [dy]) => {
    const perm = ints(n, 'perm');
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(dy!, inverse)];
  },
  Concat: (n, [dy]) => concatGrads(n, dy!),
  Slice: (n, [dy]) => sliceGrads(n, dy!),
  Pad: (n, [dy]) => {
    const x = input(n, 0);
    const pads = Array.from(x.graph.constantData(input(n, 1)) as BigInt64Array, Number);
    const rank = x.shape.length;
    const axes = x.shape.map((_, i) => i);
    return [
      slice(
        dy!,
        pads.slice(0, rank),
        axes.map((i) => (pads[i] as number) + (x.shape[i] as number)),
        axes,
      ),
      null,
    ];
  },
  Expand: (n, [dy]) => [unbroadcast(dy!, input(n, 0).shape), null],
  GatherElements: (n, [dy]) => {
    const x = input(n, 0);
    const zeros = full(x.graph, x.shape, 0, x.dtype);
    return [scatterElements(zeros, input(n, 1), dy!, n.attrs.axis as number, 'add'), null];
  },
};

/** The gradient table. Ops built outside src/graph pass their rules to gradients() via `options.rules`. */
export const GRADIENTS: Readonly<Record<string, GradientRule>> = TABLE;

/** Adds two gradient contributions (fan-in). */
export function accumulate(a: Tensor | undefined, b: Tensor): Tensor {
  return a ? add(a, b) : b;
}
