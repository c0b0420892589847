/**
 * Train-mode batch normalisation as ONE primitive with its own gradient rule, instead of a composite of ~6
 * forward and ~15 backward full-size elementwise passes: the forward is ONNX BatchNormalization with
 * training_mode = 1 and momentum = 0 (so its "running" outputs are exactly the batch mean and the biased batch
 * variance), the backward is the textbook fused formula in 6 passes:
 *   xhat = (x - mean) / sqrt(var + eps),  k = gamma / sqrt(var + eps),  n = N H W
 *   dbeta = sum(dy),  dgamma = sum(dy xhat) = (sum(dy x) - mean sum(dy)) / sqrt(var + eps)
 *   dx = k dy - (k / n) (dbeta + xhat dgamma)
 * (sums over N, H, W per channel). Gradient parity: test/nn/batch-norm.test.ts (finite differences) and the
 * torch golden (test/model/cnn-tm-train.test.ts).
 */
import type { GradientRule, Node, Tensor } from '../graph/index.js';
import { add, div, mul, neg, reduceSum, reshape, sqrt, sub } from '../graph/index.js';
import { SerError } from '../errors.js';

export const BATCH_NORM_OP = 'BatchNormalization';

/** ONNX BatchNormalization in training mode: y and the batch mean / biased variance [C] of x [N, C, H, W]. */
export function batchNormTraining(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): { output: Tensor; mean: Tensor; variance: Tensor } {
  const channels = x.shape[1] as number;
  const g = x.graph;
  const zeros = g.constant(new Float32Array(channels), [channels], 'float32', 'bn_zero_mean');
  const ones = g.constant(new Float32Array(channels).fill(1), [channels], 'float32', 'bn_unit_var');
  const [output, mean, variance] = g.addNode(
    BATCH_NORM_OP,
    [x, gamma, beta, zeros, ones],
    [
      { shape: x.shape, dtype: x.dtype },
      { shape: [channels], dtype: x.dtype },
      { shape: [channels], dtype: x.dtype },
    ],
    // momentum 0: running_mean = 0 * input_mean + 1 * batch_mean, exactly the batch statistics.
    { epsilon: { float: eps }, momentum: { float: 0 }, training_mode: 1 },
  ) as [Tensor, Tensor, Tensor];
  return { output, mean, variance };
}

/** ONNX BatchNormalization in inference form: (x - mean) * scale / sqrt(var + eps) + bias, per channel. */
export function batchNormInference(x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const [output] = x.graph.addNode(BATCH_NORM_OP, [x, scale, bias, mean, variance], [{ shape: x.shape, dtype: x.dtype }], {
    epsilon: { float: eps },
  }) as [Tensor];
  return output;
}

/**
 * Gradient rule of the training-mode node (see the file comment); inference-mode nodes are not differentiable.
 */
export const batchNormGradient: GradientRule = (node: Node, [dy]) => {
  if (node.attrs.training_mode !== 1 || !dy) {
    throw new SerError('EGRAD', 'nn', `${node.name}: only training-mode BatchNormalization is differentiable`);
  }
  const [x, gamma] = node.inputs as [Tensor, Tensor];
  const [, mean, variance] = node.outputs as [Tensor, Tensor, Tensor];
  const eps = (node.attrs.epsilon as { float: number }).float;
  const channels = x.shape[1] as number;
  const n = (x.shape[0] as number) * (x.shape[2] as number) * (x.shape[3] as number);
  const invStd = div(1, sqrt(add(variance, eps))); // [C]
  const k = mul(gamma, invStd); // [C]
  const perChannel = (t: Tensor) => reshape(t, [1, channels, 1, 1]);

  const sumDy = reduceSum(dy, [0, 2, 3]);
  const sumDyX = reduceSum(mul(dy, x), [0, 2, 3]);
  const scaledDy = mul(dy, perChannel(k)); // k dy
  const sumDyXhat = mul(sub(sumDyX, mul(mean, sumDy)), invStd); // [C] = dgamma
  // dx = k dy + BN_inference(x; scale = -k dgamma / n, bias = -k dbeta / n, mean, var): the second term is
  // -(k / n) xhat dgamma - (k / n) dbeta in one pass.
  const correction = batchNormInference(x, neg(div(mul(k, sumDyXhat), n)), neg(div(mul(k, sumDy), n)), mean, variance, eps);
  return [add(scaledDy, correction), sumDyXhat, sumDy, null, null];
};
