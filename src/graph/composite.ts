/**
 * Composite ops: small compositions of primitives (no gradient rules of their own). Written to match the
 * patterns ONNX Runtime fuses in inference graphs (e.g. LayerNormalization from
 * ReduceMean-Sub-Pow-ReduceMean-Add-Sqrt-Div-Mul-Add).
 */
import { type Tensor, shapeError, shapeString } from './graph.js';
import { add, layerNormalization, logSoftmax, matmul, mul, neg, oneHot, reduceMean, reduceSum, transpose } from './ops.js';

/** PyTorch nn.Linear: x [..., in] x weight [out, in]^T + bias [out] -> [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.shape.length !== 2) shapeError('linear', `weight ${shapeString(weight.shape)} must be [out, in]`);
  const y = matmul(x, transpose(weight, [1, 0]));
  return bias ? add(y, bias) : y;
}

/** Layer normalisation over the last axis (biased variance, like torch): the graph op layerNormalization. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  return layerNormalization(x, gamma, beta, eps);
}

/** Mean cross-entropy of logits [B, C] against int labels [B] (torch.nn.functional.cross_entropy, mean). */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (logits.shape.length !== 2) shapeError('crossEntropy', `logits ${shapeString(logits.shape)} must be [batch, classes]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    shapeError('crossEntropy', `labels ${shapeString(labels.shape)} must be [${logits.shape[0]}] for logits ${shapeString(logits.shape)}`);
  }
  const picked = reduceSum(mul(logSoftmax(logits, 1), oneHot(labels, logits.shape[1] as number, logits.dtype)), [1]);
  return neg(reduceMean(picked, [0]));
}
