/**
 * Layers as graph-building functions over src/graph primitives: each takes symbolic tensors (activations and
 * parameters, which are graph inputs) and returns symbolic tensors. Numerics follow torch 1.13; parity with
 * ../shared/golden is tested in test/model/cnn-tm-eval.test.ts and cnn-tm-train.test.ts (logits 1e-4 relative, gradients 1e-3 relative).
 */
import {
  type Tensor,
  add,
  batchMoments,
  cast,
  conv2d,
  detach,
  div,
  im2col,
  less,
  matmul,
  maxPool2dWithIndices,
  mul,
  neg,
  pad as padTensor,
  reduceMax,
  reduceMean,
  reduceSum,
  reshape,
  slice,
  sqrt,
  sub,
  transpose,
  where,
} from '../graph/index.js';
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
export function batchNorm2d(
  x: Tensor,
  params: BatchNormParams,
  mode: Mode,
  options: { momentum?: number; eps?: number } = {},
): BatchNormResult {
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
 * Exact, and cheaper than two passes over the output when R <= Cout (a first layer: R = 9 against 16 channels;
 * CNN-TM's own, 128 x 188 with a 2x2 pool, takes phaseConvMaxPool2, which uses the same patch statistics); the patches are centred before the product (no E[x^2] - E[x]^2 cancellation) and the
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

/**
 * conv(x, weight) (no bias; stride 1, odd k, zero pads k // 2) followed by 2x2 max pooling, with the conv computed
 * per pooling phase so that no pooling indices are needed (ORT's MaxPool with indices and its MaxUnpool are
 * scalar kernels that mispredict on real data: a CNN-TM first-layer branch's conv, pool and pool gradient took
 * 43.6 ms that way and 24.9 ms this way on real log-mels; docs/benchmark-log.md). Let xs be
 * the 2x2 space-to-depth of the padded input, [N, 4 Cin, (H + 2p) / 2, (W + 2p) / 2], channel (ci, s_h, s_w).
 * The conv output at (2i + r_h, 2j + r_w) reads xs blocks i..i+p, j..j+p only, so it is a stride-1 conv of xs
 * with a (p+1)-square kernel W'[(r, co), (ci, s), a] = W[co, ci, 2 a + s - r] (0 where that tap is outside
 * 0..k-1), one conv with 4 Cout channels for all four phases r, and the pool is max over the phase axis
 * (graph reduceMax). Its gradient shares exactly tied maxima evenly (torch.amax's rule) where nn.MaxPool2d
 * gives all of it to the first; both are subgradients of max, and they give the same weight gradient when the
 * tied positions read the same input patch, which is where exact ties come from in a first layer (constant
 * regions of the input: silence floored at top_db, padding). Off ties the gradients are PyTorch's.
 * Batch moments of the (unpooled) conv output come from the patches of xs (p + 1)^2 4 Cin values each, as in
 * patchMoments: per phase r a mean a_r = W'_r m and variance W'_r C W'_r^T; the four phases have equally many
 * positions, so mean = avg_r a_r and var = avg_r (W'_r C W'_r^T) + avg_r (a_r - avg a)^2. The conv output is not
 * centred here (unlike the other paths' z - c): its moments come from centred patches, not from E[z^2] - E[z]^2.
 * Needs H and W even (floor-mode pooling drops nothing); the caller checks.
 */
function phaseConvMaxPool2(x: Tensor, weight: Tensor): { pooled: Tensor; mean: Tensor; variance: Tensor } {
  const [cout, cin, kernel] = weight.shape as [number, number, number];
  const pad = Math.floor(kernel / 2);
  const taps = pad + 1; // phase kernel size
  const xs = spaceToDepth2(x, pad); // [N, 4 Cin, h + p, w + p]
  // T [k^2, 4 (r) * 4 (s) * taps^2 (a)]: one-hot map from W's taps to W''s.
  const map = new (x.dtype === 'float64' ? Float64Array : Float32Array)(kernel * kernel * 16 * taps * taps);
  for (let r = 0; r < 4; r++)
    for (let s = 0; s < 4; s++)
      for (let ah = 0; ah < taps; ah++)
        for (let aw = 0; aw < taps; aw++) {
          const uh = 2 * ah + (s >> 1) - (r >> 1);
          const uw = 2 * aw + (s & 1) - (r & 1);
          if (uh < 0 || uh >= kernel || uw < 0 || uw >= kernel) continue;
          map[(uh * kernel + uw) * 16 * taps * taps + ((r * 4 + s) * taps + ah) * taps + aw] = 1;
        }
  const tapMap = x.graph.constant(map, [kernel * kernel, 16 * taps * taps], x.dtype, 'phase_taps');
  const regrouped = reshape(matmul(reshape(weight, [cout * cin, kernel * kernel]), tapMap), [cout, cin, 4, 4, taps, taps]);
  const phaseWeight = reshape(transpose(regrouped, [2, 0, 1, 3, 4, 5]), [4 * cout, 4 * cin, taps, taps]); // W'
  const phases = conv2d(xs, phaseWeight, null, { pads: 0 }); // [N, 4 Cout, H/2, W/2], channel (r, co)
  const [batch, , h, w] = phases.shape as [number, number, number, number];
  const pooled = reduceMax(reshape(phases, [batch, 4, cout, h, w]), [1]);

  const cols = im2col(xs, [taps, taps], [0, 0, 0, 0]); // [N, R, h w], R = 4 Cin taps^2, shared by both branches
  const rows = cols.shape[1] as number;
  const { mean: patchMean, covariance } = patchStatistics(cols);
  const perPhase = reshape(phaseWeight, [4, cout, rows]);
  const phaseMeans = reshape(matmul(perPhase, reshape(patchMean, [rows, 1])), [4, cout]);
  const phaseVariances = reduceSum(mul(matmul(perPhase, covariance), perPhase), [2]); // [4, Cout]
  const meanOfMeans = reduceMean(phaseMeans, [0]);
  const spread = sub(phaseMeans, reshape(meanOfMeans, [1, cout]));
  const variance = add(reduceMean(phaseVariances, [0]), reduceMean(mul(spread, spread), [0]));
  return { pooled, mean: meanOfMeans, variance };
}

/** The 2x2 space-to-depth of x [N, C, H, W] zero-padded by p: [N, 4 C, (H + 2p) / 2, (W + 2p) / 2], channel (c, s_h, s_w); built once per x. */
const spaceToDepthCache = new WeakMap<Tensor, Map<number, Tensor>>();
function spaceToDepth2(x: Tensor, pad: number): Tensor {
  const cached = spaceToDepthCache.get(x)?.get(pad);
  if (cached) return cached;
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const [hp, wp] = [(height + 2 * pad) / 2, (width + 2 * pad) / 2];
  const padded = padTensor(x, [0, 0, pad, pad, 0, 0, pad, pad]);
  const blocks = transpose(reshape(padded, [batch, channels, hp, 2, wp, 2]), [0, 1, 3, 5, 2, 4]);
  const xs = reshape(blocks, [batch, 4 * channels, hp, wp]);
  if (!spaceToDepthCache.has(x)) spaceToDepthCache.set(x, new Map());
  spaceToDepthCache.get(x)?.set(pad, xs);
  return xs;
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
function runningStatistics(
  params: BatchNormParams,
  mean: Tensor,
  variance: Tensor,
  n: number,
  momentum: number,
): Required<Omit<BatchNormResult, 'output'>> {
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
 * (torch's pooling of y keeps the first of exactly tied values; so does the MaxPool path here, unless gamma is
 * exactly 0, where every gradient through y is 0 anyway). The batch moments come, instead of from ORT's one-threaded
 * train-mode BatchNormalization, from the input patches (patchMoments) when a patch has no more values than the
 * conv has channels (CNN-TM's first layer: 9 <= 16), else from two row reductions of z (graph batchMoments).
 * Such a first layer with a 2x2 pool over an even-sized input is computed per pooling phase instead
 * (phaseConvMaxPool2: no pooling indices; exactly tied maxima share the gradient, see there).
 * z is s W * x without the conv bias b: BN's mean subtraction cancels b, which enters only the running mean (mean
 * of x = s mean(z) + b); its gradient is exactly 0, where torch's is round-off that AdamW's first steps turn into
 * +-lr moves of a bias with no effect on the output. The MaxPool paths subtract a constant c = s sum_taps(W)
 * mean(input) in the conv's bias instead, the conv output's mean up to the zero padding at the borders, so z - c
 * has a near-zero mean: E[z^2] - E[z]^2 in float32 loses digits when |mean| >> std (log-mel input: a mean of tens
 * of dB). c is detached: the argmax, the centred values and every gradient are those of z. Returns the pooled BN
 * output (before ReLU) and the batch statistics of the conv output x. Why fused: docs/benchmark-log.md.
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
  const kernel = conv.weight.shape[2] as number;
  const pad = Math.floor(kernel / 2);
  const weight = mul(conv.weight, reshape(sign, [channels, 1, 1, 1])); // s W
  const patch = (x.shape[1] as number) * kernel * kernel;
  const [height, width] = [x.shape[2] as number, x.shape[3] as number];
  let values: Tensor; // pooled z - c
  let centredMean: Tensor; // mean of z - c
  let variance: Tensor;
  let centre: Tensor | null = null; // c (null: 0)
  if (patch <= channels && pool === 2 && height % 2 === 0 && width % 2 === 0 && kernel % 2 === 1) {
    ({ pooled: values, mean: centredMean, variance } = phaseConvMaxPool2(x, weight));
  } else {
    const inputMean = reshape(reduceMean(detach(x), [0, 2, 3]), [x.shape[1] as number, 1]); // [Cin, 1]
    centre = reshape(matmul(reduceSum(detach(weight), [2, 3]), inputMean), [channels]); // c, constant for autodiff
    const shifted = conv2d(x, weight, neg(centre), { pads: pad }); // z - c
    [centredMean, variance] =
      patch <= channels ? patchMoments(x, weight, neg(centre), kernel, pad) : rowsOf(batchMoments(shifted), channels);
    values = maxPool2dWithIndices(shifted, { kernel: [pool, pool] }).values;
  }
  const scale = div(mul(params.weight, sign), sqrt(add(variance, eps))); // |k|
  const output = add(mul(values, perChannel(scale)), perChannel(sub(params.bias, mul(centredMean, scale))));
  const mean = add(mul(sign, centre ? add(centredMean, centre) : centredMean), detach(conv.bias)); // s (mean(z - c) + c) + b
  const n = (x.shape[0] as number) * height * width;
  return { output, ...runningStatistics(params, mean, variance, n, momentum) };
}
