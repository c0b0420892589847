/**
 * nn.MultiheadAttention (self-attention, batch_first) and nn.TransformerEncoderLayer (post-norm, ReLU) of
 * torch 1.13, built from graph primitives. Parameter names are PyTorch's (`in_proj_weight`, `out_proj.weight`...).
 */
import { type Tensor, add, matmul, mul, relu, reshape, slice, softmax, transpose } from '../graph/index.js';
import { type Mode, dropout, layerNorm, linear } from './layers.js';

export interface AttentionParams {
  /** [3d, d]: rows 0..d-1 project queries, d..2d-1 keys, 2d..3d-1 values. */
  readonly inProjWeight: Tensor;
  /** [3d] */
  readonly inProjBias: Tensor;
  /** [d, d] */
  readonly outProjWeight: Tensor;
  /** [d] */
  readonly outProjBias: Tensor;
}

/**
 * Self-attention of x [B, T, d] with `heads` heads of size hd = d / heads, as F.multi_head_attention_forward:
 * q, k, v = x W_in^T + b_in split in three; per head softmax(q k^T / sqrt(hd)) (dropout p on these weights in
 * train mode) times v; heads concatenated and projected by out_proj. No mask. -> [B, T, d]
 */
export function multiHeadSelfAttention(
  x: Tensor,
  params: AttentionParams,
  options: { heads: number; dropout: number; mode: Mode },
): Tensor {
  const [batch, time, d] = x.shape as [number, number, number];
  const { heads } = options;
  const headDim = d / heads;
  const qkv = linear(x, params.inProjWeight, params.inProjBias); // [B, T, 3d]
  // [B, T, 3d] -> [B, T, 3, heads, hd] -> [3, B, heads, T, hd]: one transpose for q, k and v.
  const split = transpose(reshape(qkv, [batch, time, 3, heads, headDim]), [2, 0, 3, 1, 4]);
  const part = (i: number) => reshape(slice(split, [i], [i + 1], [0]), [batch, heads, time, headDim]);
  const q = mul(part(0), 1 / Math.sqrt(headDim)); // torch scales q before q k^T
  const k = part(1);
  const v = part(2);
  const scores = matmul(q, transpose(k, [0, 1, 3, 2])); // [B, heads, T, T]
  const weights = dropout(softmax(scores, -1), options.dropout, options.mode);
  const context = matmul(weights, v); // [B, heads, T, hd]
  const merged = reshape(transpose(context, [0, 2, 1, 3]), [batch, time, d]);
  return linear(merged, params.outProjWeight, params.outProjBias);
}

export interface EncoderLayerParams {
  readonly selfAttn: AttentionParams;
  readonly linear1Weight: Tensor;
  readonly linear1Bias: Tensor;
  readonly linear2Weight: Tensor;
  readonly linear2Bias: Tensor;
  readonly norm1Weight: Tensor;
  readonly norm1Bias: Tensor;
  readonly norm2Weight: Tensor;
  readonly norm2Bias: Tensor;
}

/**
 * nn.TransformerEncoderLayer(d, heads, ff, dropout, activation=relu, batch_first=True, norm_first=False):
 *   x = norm1(x + dropout1(self_attn(x)))
 *   x = norm2(x + dropout2(linear2(dropout(relu(linear1(x))))))
 * Dropout sits where torch 1.13 puts it: on the attention weights (inside self_attn), after attention,
 * after the FF activation and after the FF output. PyTorch's eval "fast path" computes the same formula.
 */
export function transformerEncoderLayer(
  x: Tensor,
  params: EncoderLayerParams,
  options: { heads: number; dropout: number; mode: Mode },
): Tensor {
  const p = options.dropout;
  const attended = multiHeadSelfAttention(x, params.selfAttn, options);
  const h = layerNorm(add(x, dropout(attended, p, options.mode)), params.norm1Weight, params.norm1Bias);
  const hidden = dropout(relu(linear(h, params.linear1Weight, params.linear1Bias)), p, options.mode);
  const ff = linear(hidden, params.linear2Weight, params.linear2Bias);
  return layerNorm(add(h, dropout(ff, p, options.mode)), params.norm2Weight, params.norm2Bias);
}
