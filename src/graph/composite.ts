/**
 * Composite ops: small compositions of primitives (no gradient rules of their own).
 */
import { type Graph, type Tensor, shapeError, shapeString } from './graph.js';
import { add, conv2d, logSoftmax, matmul, mul, neg, oneHot, reduceMean, reduceSum, reshape, transpose } from './ops.js';

/** PyTorch nn.Linear: x [..., in] x weight [out, in]^T + bias [out] -> [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.shape.length !== 2) shapeError('linear', `weight ${shapeString(weight.shape)} must be [out, in]`);
  const y = matmul(x, transpose(weight, [1, 0]));
  return bias ? add(y, bias) : y;
}

/** Mean cross-entropy of logits [B, C] against int labels [B] (torch.nn.functional.cross_entropy, mean). */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (logits.shape.length !== 2) shapeError('crossEntropy', `logits ${shapeString(logits.shape)} must be [batch, classes]`);
  if (labels.shape.length !== 1 || labels.shape[0] !== logits.shape[0]) {
    shapeError('crossEntropy', `labels ${shapeString(labels.shape)} must be [${logits.shape[0]}] for logits ${shapeString(logits.shape)}`);
  }
  return softCrossEntropy(logits, oneHot(labels, logits.shape[1] as number, logits.dtype));
}

/**
 * Mean cross-entropy of logits [B, C] against target distributions [B, C]: -(1/B) sum_b sum_c t[b, c] log_softmax(logits)[b, c]
 * (torch.nn.functional.cross_entropy with probability targets, reduction 'mean'). One-hot rows give the int-label
 * loss; smoothed or mixed rows give label smoothing and mixup; a row scaled by w weighs its sample by w (its
 * gradient is (softmax * sum_c t[b, c] - t[b]) / B).
 */
export function softCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  if (logits.shape.length !== 2) shapeError('softCrossEntropy', `logits ${shapeString(logits.shape)} must be [batch, classes]`);
  if (targets.shape.length !== 2 || targets.shape[0] !== logits.shape[0] || targets.shape[1] !== logits.shape[1]) {
    shapeError('softCrossEntropy', `targets ${shapeString(targets.shape)} must be ${shapeString(logits.shape)} like the logits`);
  }
  return neg(reduceMean(reduceSum(mul(logSoftmax(logits, 1), targets), [1]), [0]));
}

/** im2col tensors already built, per graph, by input name, kernel and pads. */
const im2colCache = new WeakMap<Graph, Map<string, Tensor>>();

/**
 * The kH*kW shifted copies of the zero-padded x [B, Cin, H, W] for a stride-1 conv with these pads:
 * [B, Cin*kH*kW, Ho*Wo], row ci*kH*kW + k holding Xpad[b, ci, y + k / kW, x + k % kW] (one Conv of x as B*Cin
 * single-channel images with constant one-hot kernels). Built once per (x, kernel, pads) in a graph and shared:
 * CNN-TM's two branches start with convs of the same input, whose weight gradients and batch moments use it.
 */
export function im2col(x: Tensor, kernel: readonly [number, number], pads: readonly [number, number, number, number]): Tensor {
  if (x.shape.length !== 4) shapeError('im2col', `x is ${shapeString(x.shape)}, expected [N, C, H, W]`);
  const [batch, cin, height, width] = x.shape as [number, number, number, number];
  const [kh, kw] = kernel;
  const key = `${x.name}|${kh}x${kw}|${pads.join(',')}`;
  const cached = im2colCache.get(x.graph)?.get(key);
  if (cached) return cached;
  const taps = kh * kw;
  const oneHot = new (x.dtype === 'float64' ? Float64Array : Float32Array)(taps * taps);
  for (let k = 0; k < taps; k++) oneHot[k * taps + k] = 1;
  const eye = x.graph.constant(oneHot, [taps, 1, kh, kw], x.dtype, 'im2col_kernels');
  const shifted = conv2d(reshape(x, [batch * cin, 1, height, width]), eye, null, { pads: [...pads] as [number, number, number, number] });
  const cols = reshape(shifted, [batch, cin * taps, (shifted.shape[2] as number) * (shifted.shape[3] as number)]);
  if (!im2colCache.has(x.graph)) im2colCache.set(x.graph, new Map());
  im2colCache.get(x.graph)?.set(key, cols);
  return cols;
}
