/**
 * Layers as graph-building functions over src/graph primitives: each takes symbolic tensors (activations and
 * parameters, which are graph inputs) and returns symbolic tensors. Numerics follow torch 1.13; parity with
 * ../shared/golden is tested in test/model/cnn-tm-eval.test.ts and cnn-tm-train.test.ts (logits 1e-4 relative, gradients 1e-3 relative).
 */
import { type Tensor, add, batchMoments, cast, conv2d, detach, div, im2col, less, matmul, maxPool2dWithIndices, mul, reduceMean, reduceSum, reshape, slice, sqrt, sub, transpose, where } from '../graph/index.js';
import { batchNormInference, batchNormTraining } from './batch-norm.js';
import { fedDropout } from './dropout.js';

/**
 * nn.Linear (y = x W^T + b; x [..., in], weight [out, in]) and nn.LayerNorm over the last axis (biased variance,
 * eps 1e-5, affine) are the graph layer's (a composite and an op with its own gradient rule): one definition each.
 */
export { linear, layerNorm } from '../graph/index.js';

/** Whether a forward pass is built for training (batch statistics, dropout) or inference. */
export type Mode = 'train' | 'eval';

/**
 * nn.Conv2d with bias and `padding = kernel // 2` ("same" size for odd kernels):
 * x [N, Cin, H, W], weight [Cout, Cin, k, k], bias [Cout] -> [N, Cout, H, W].
 */
export function conv2dSame(x: Tensor, weight: Tensor, bias: Tensor): Tensor {
  const kernel = weight.shape[2] as number;
  return conv2d(x, weight, bias, { pads: Math.floor(kernel / 2) });
}

/**
 * nn.Dropout: identity in eval mode or for p = 0, else x times a keep-mask scaled by 1/(1-p) that the caller
 * feeds (dropout.ts: the graph's dropoutMaskInputs, filled by a DropoutMaskGenerator).
 */
export function dropout(x: Tensor, p: number, mode: Mode): Tensor {
  if (mode === 'eval' || p === 0) return x;
  return fedDropout(x, p);
}

export interface BatchNormParams {
  /** gamma [C] */
  readonly weight: Tensor;
  /** beta [C] */
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
}

export interface BatchNormResult {
  readonly output: Tensor;
  /** Train mode only: the updated running statistics (not differentiated). */
  readonly runningMean?: Tensor;
  readonly runningVar?: Tensor;
  /** Train mode only: the batch mean [C] and the BIASED batch variance [C] this batch was normalised with. */
  readonly batchMean?: Tensor;
  readonly batchVariance?: Tensor;
  /** Train mode only: values per channel behind those statistics, n = N H W (unbiased variance = var n / (n - 1)). */
  readonly count?: number;
}

/**
 * nn.BatchNorm2d (momentum 0.1, eps 1e-5) on x [N, C, H, W].
 * - train: normalises with the batch mean and the BIASED batch variance over (N, H, W); updates
 *   running_mean = (1 - m) running_mean + m mean and running_var = (1 - m) running_var + m var * n / (n - 1)
 *   (UNBIASED variance, n = N H W), exactly as torch.
 * - eval: normalises with the running statistics.
 * y = (x - mean) / sqrt(var + eps) * weight + bias. Both modes are one ONNX BatchNormalization node
 * (batch-norm.ts; the training node has a fused gradient rule).
 */
export function batchNorm2d(x: Tensor, params: BatchNormParams, mode: Mode, options: { momentum?: number; eps?: number } = {}): BatchNormResult {
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (mode === 'eval') {
    // One ONNX BatchNormalization node: ORT folds it into the preceding Conv when the statistics are
    // initializers (the exported model). Eval graphs are never differentiated.
    const output = batchNormInference(x, params.weight, params.bias, params.runningMean, params.runningVar, eps);
    return { output };
  }
  const { output, mean, variance } = batchNormTraining(x, params.weight, params.bias, eps); // batch mean, biased var [C]
  const n = (x.shape[0] as number) * (x.shape[2] as number) * (x.shape[3] as number);
  return { output, ...runningStatistics(params, mean, variance, n, momentum) };
}

/** Rows 0 and 1 ([C] each) of a [2, C] tensor. */
function rowsOf(moments: Tensor, channels: number): [Tensor, Tensor] {
  const row = (r: number): Tensor => reshape(slice(moments, [r], [r + 1], [0]), [channels]);
  return [row(0), row(1)];
}

/**
 * Batch mean and biased variance per output channel of conv(x, weight, bias) (stride 1, zero pads `pad`) from
 * the statistics of its input patches, without reading the conv output: with p the patches (graph im2col,
 * R = Cin k^2 values each), m their mean and C = mean((p - m)(p - m)^T) their R x R covariance,
 *   mean = W m + b,  var = diag(W C W^T)  (W [Cout, R]).
 * Exact, and cheaper than two passes over the output when R <= Cout (CNN-TM's first layer: R = 9 against 16
 * channels of 128 x 188); the patches are centred before the product (no E[x^2] - E[x]^2 cancellation) and the
 * per-image R x R products are summed in float64. Gradients reach W and b only (the patches are data).
 */
function patchMoments(x: Tensor, weight: Tensor, bias: Tensor, kernel: number, pad: number): [Tensor, Tensor] {
  const channels = weight.shape[0] as number;
  const cols = im2col(x, [kernel, kernel], [pad, pad, pad, pad]); // [B, R, P]
  const rows = cols.shape[1] as number;
  const { mean, covariance } = patchStatistics(cols);
  const w = reshape(weight, [channels, rows]);
  const outMean = add(reshape(matmul(w, reshape(mean, [rows, 1])), [channels]), bias);
  const outVariance = reduceSum(mul(matmul(w, covariance), w), [1]);
  return [outMean, outVariance];
}

/** Patch mean [R] and covariance [R, R] of im2col output [B, R, P], built once per cols (both CNN-TM branches). */
const patchStatisticsCache = new WeakMap<Tensor, { mean: Tensor; covariance: Tensor }>();
function patchStatistics(cols: Tensor): { mean: Tensor; covariance: Tensor } {
  const cached = patchStatisticsCache.get(cols);
  if (cached) return cached;
  const [batch, rows, positions] = cols.shape as [number, number, number];
  const mean = reduceMean(cols, [0, 2]); // [R]
  const centred = sub(cols, reshape(mean, [1, rows, 1]));
  const perImage = matmul(centred, transpose(centred, [0, 2, 1])); // [B, R, R]
  const covariance = cast(div(reduceSum(cast(perImage, 'float64'), [0]), batch * positions), cols.dtype); // [R, R]
  const statistics = { mean, covariance };
  patchStatisticsCache.set(cols, statistics);
  return statistics;
}

/** torch's running-statistics update from a batch mean and BIASED variance of n values per channel. */
function runningStatistics(params: BatchNormParams, mean: Tensor, variance: Tensor, n: number, momentum: number): Required<Omit<BatchNormResult, 'output'>> {
  const runningMean = add(mul(params.runningMean, 1 - momentum), mul(mean, momentum));
  const runningVar = add(mul(params.runningVar, 1 - momentum), mul(variance, (momentum * n) / Math.max(n - 1, 1)));
  return { runningMean, runningVar, batchMean: mean, batchVariance: variance, count: n };
}

/**
 * Train mode of conv2dSame -> batchNorm2d -> max pooling (kernel = stride = `pool`), the same values as
 * that chain, computed so that the full-size conv output is written once and read once (first layer) or three
 * times. Per channel BN is y = k (x - mean) + beta with k = gamma / sqrt(var + eps), increasing in x when
 * gamma > 0. With s = sign(gamma) (+1 at 0) folded into the conv (weight s W, bias s b), z = s x and
 *   maxpool(BN(x)) = |k| (maxpool(z) - mean_z) + beta,   mean_z = s mean, var_z = var,
 * so BN's affine map runs on the 4x (16x) smaller pooled tensor and the pool's indices pick the same elements
 * (torch's pooling of y keeps the first of exactly tied values; so does this one, unless gamma is exactly 0,
 * where every gradient through y is 0 anyway). The batch moments come, instead of from ORT's one-threaded
 * train-mode BatchNormalization, from the input patches (patchMoments) when a patch has no more values than the
 * conv has channels (CNN-TM's first layer: 9 <= 16), else from two row reductions of z (graph batchMoments).
 * The conv bias also subtracts a constant c = s (sum_taps(W) mean(input) + b), the conv output's mean up to the
 * zero padding at the borders, so z - c has a near-zero mean: E[z^2] - E[z]^2 in float32 loses digits when
 * |mean| >> std (log-mel input: a mean of tens of dB). c is detached: the argmax, the centred values and every
 * gradient are those of z. Returns the pooled BN output (before ReLU) and the batch statistics of the conv
 * output x. Timings in BENCHMARKS.md (ORT's BatchNormalization and the GatherElements of the earlier
 * BN-then-pool graph cost ~96 ms a step).
 */
export function convBatchNorm2dMaxPool(
  x: Tensor,
  conv: { weight: Tensor; bias: Tensor },
  params: BatchNormParams,
  pool: number,
  options: { momentum?: number; eps?: number } = {},
): BatchNormResult {
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const channels = conv.weight.shape[0] as number;
  const g = x.graph;
  const perChannel = (t: Tensor): Tensor => reshape(t, [1, channels, 1, 1]);
  const sign = where(less(params.weight, 0), g.scalar(-1, x.dtype), g.scalar(1, x.dtype)); // [C], no gradient
  const inputMean = reshape(reduceMean(detach(x), [0, 2, 3]), [x.shape[1] as number, 1]); // [Cin, 1]
  const approxMean = add(reshape(matmul(reduceSum(detach(conv.weight), [2, 3]), inputMean), [channels]), detach(conv.bias));
  const shift = mul(sign, approxMean); // c, constant for autodiff
  const kernel = conv.weight.shape[2] as number;
  const pad = Math.floor(kernel / 2);
  const weight = mul(conv.weight, reshape(sign, [channels, 1, 1, 1])); // s W
  const bias = sub(mul(conv.bias, sign), shift); // s b - c
  const shifted = conv2d(x, weight, bias, { pads: pad }); // z - c
  const patch = (x.shape[1] as number) * kernel * kernel;
  const [shiftedMean, variance] =
    patch <= channels ? patchMoments(x, weight, bias, kernel, pad) : rowsOf(batchMoments(shifted), channels);
  const scale = div(mul(params.weight, sign), sqrt(add(variance, eps))); // |k|
  const { values } = maxPool2dWithIndices(shifted, { kernel: [pool, pool] });
  const output = add(mul(values, perChannel(scale)), perChannel(sub(params.bias, mul(shiftedMean, scale))));
  const mean = mul(sign, add(shiftedMean, shift)); // mean of x = s (mean(z - c) + c)
  const n = (values.shape[0] as number) * (shifted.shape[2] as number) * (shifted.shape[3] as number);
  return { output, ...runningStatistics(params, mean, variance, n, momentum) };
}
