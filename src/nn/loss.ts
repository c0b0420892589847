/** Losses. */
import type { Tensor } from '../graph/graph.js';
import { logSoftmax, mul, neg, oneHot, reduceMean, reduceSum } from '../graph/ops.js';
import { SerError } from '../errors.js';

/**
 * F.cross_entropy(logits, labels) with reduction 'mean': mean over the batch of -log_softmax(logits)[label].
 * logits [B, C] float, labels [B] int64 -> scalar []. The label pick is a one-hot product, so the gradient is
 * (softmax - onehot) / B, exactly torch's.
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (logits.shape.length !== 2 || labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new SerError('ESHAPE', 'nn', `crossEntropy: logits [${logits.shape}] must be [B, C] and labels [${labels.shape}] must be [B]`);
  }
  const classes = logits.shape[1] as number;
  const picked = reduceSum(mul(logSoftmax(logits, -1), oneHot(labels, classes, logits.dtype)), [1]); // [B]
  return neg(reduceMean(picked, [0]));
}
