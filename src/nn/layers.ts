/**
 * Layers as graph-building functions over src/graph primitives: each takes symbolic tensors (activations and
 * parameters, which are graph inputs) and returns symbolic tensors. Numerics follow torch 1.13; parity with
 * ../shared/golden is tested in test/model/cnn-tm-eval.test.ts and cnn-tm-train.test.ts (logits 1e-4 relative, gradients 1e-3 relative).
 */
import { type Tensor, add, conv2d, mul } from '../graph/index.js';
import { batchNormInference, batchNormTraining } from './batch-norm.js';
import { fedDropout } from './dropout.js';

/**
 * nn.Linear (y = x W^T + b; x [..., in], weight [out, in]) and nn.LayerNorm over the last axis (biased variance,
 * eps 1e-5, affine) are the graph layer's composites: one definition for the project.
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
  const runningMean = add(mul(params.runningMean, 1 - momentum), mul(mean, momentum));
  const runningVar = add(mul(params.runningVar, 1 - momentum), mul(variance, (momentum * n) / Math.max(n - 1, 1)));
  return { output, runningMean, runningVar, batchMean: mean, batchVariance: variance, count: n };
}
