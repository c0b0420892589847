/**
 * Graph layer: symbolic tensors with static shapes, primitive ops (1:1 ONNX opset 17), reverse-mode autodiff,
 * ONNX serialisation. Build a Graph, call ops, declare outputs, `toOnnx(graph)`, run with src/runtime.
 *
 *   const g = new Graph('train');
 *   const x = g.input('x', [4, 3]);            // Tensor {graph, name, shape, dtype}
 *   const w = g.input('w', [3, 2]);
 *   const loss = reduceMean(relu(matmul(x, w)), [0, 1]);
 *   const [dw] = gradients(loss, [w]);         // new nodes in g, shape [3, 2]
 *   g.output('loss', loss); g.output('grad/w', dw);
 *   const session = await createSession(toOnnx(g));   // from '../runtime/index.js'
 *
 * Shapes/dtypes are checked when an op is called: SerError('ESHAPE', 'graph', '<Op>: ...').
 */
export { Graph, isFloat, sizeOf, shapeString, hostArray } from './graph.js';
export type { DType, HostArray, Tensor, Node, AttrValue } from './graph.js';

export {
  // elementwise (broadcasting; a plain number operand becomes a scalar constant of the tensor's dtype)
  add, // (a, b) -> broadcast(a, b)
  sub,
  mul,
  div,
  pow, // a ** b, float
  neg,
  relu,
  exp,
  log,
  sqrt,
  reciprocal,
  tanh,
  sigmoid,
  erf,
  abs,
  sign, // no gradient
  identity,
  detach, // identity that blocks gradients (torch .detach())
  // comparisons / selection / casts (bool results carry no gradient)
  equal,
  less,
  greater,
  where, // (cond bool, a, b) -> broadcast
  cast, // (x, dtype)
  // linear algebra, convolution, pooling
  matmul, // [..., M, K] x [..., K, N] -> [..., M, N]
  conv2d, // x [N,Cin,H,W], w [Cout,Cin,kH,kW], bias [Cout]|null, {pads, strides, group} -> [N,Cout,Ho,Wo]
  convTranspose2d, // dy [N,Cout,Ho,Wo], w [Cout,Cin,kH,kW], {pads, strides, outputSize} -> [N,Cin,H,W]
  maxPool2d, // x [N,C,H,W], {kernel:[kH,kW], strides=kernel} -> floor-mode pooled
  maxPool2dWithIndices, // same, plus int64 flat indices (use in training graphs: the gradient reuses them)
  maxUnpool2d, // (x, indices, {kernel, strides, outputShape}) inverse of max pooling
  // reductions and normalisers
  reduceSum, // (x, axes, keepdims=false)
  reduceMean,
  reduceMax,
  layerNorm, // (x, gamma [D], beta [D], eps) over the last axis (ONNX LayerNormalization)
  batchMoments, // x [N,C,H,W] -> [2, C]: mean and biased variance over N, H, W (lowered by toOnnx to row ReduceSum + ReduceSumSquare)
  softmax, // (x, axis=-1)
  logSoftmax, // (x, axis=-1)
  // shape
  reshape, // (x, shape with at most one -1)
  transpose, // (x, perm)
  concat, // (tensors, axis)
  slice, // (x, starts, ends, axes, steps?)
  pad, // (x, [begins..., ends...]) zero padding
  expand, // (x, shape) numpy broadcast
  full, // (graph, shape, value, dtype) ConstantOfShape
  broadcastShapes,
  // indexing
  gather, // (x, indices, axis) numpy take (no gradient rule yet)
  gatherElements, // (x, indices, axis)
  scatterElements, // (data, indices, updates, axis, 'none'|'add') (no gradient rule)
  oneHot, // (int indices [...], depth, dtype) -> [..., depth]
} from './ops.js';
export type { Conv2dOptions, ConvTranspose2dOptions, MaxPool2dOptions, Pads2d } from './ops.js';

/**
 * Composites (no rules of their own): linear(x, W [out,in], b), crossEntropy(logits [B,C], labels [B]),
 * softCrossEntropy(logits [B,C], targets [B,C]), im2col(x, kernel, pads).
 */
export { linear, crossEntropy, softCrossEntropy, im2col } from './composite.js';

/** gradients(loss, wrt[], {seed?, rules?}) -> Tensor[] (same shapes as wrt); EGRAD for ops without a rule. */
export { gradients } from './autodiff.js';
export type { GradientsOptions } from './autodiff.js';
/** GRADIENTS: the rule table (ops built elsewhere: gradients(loss, wrt, {rules})); unbroadcast(grad, shape). */
export { GRADIENTS, unbroadcast } from './gradients.js';
export type { GradientRule } from './gradients.js';

/**
 * toOnnx(graph, {producer?, nchwcBlock?, dynamicBatch?}) -> ONNX model bytes (opset 17, only nodes the outputs
 * need; nchwcBlock from src/runtime's nchwcBlockSize() lowers fed-weight Convs to ORT's NCHWc kernels;
 * dynamicBatch writes a symbolic batch axis; a session's inputShapes reads it back); floatInitializers(bytes) reads
 * the float32 initializers of a model back by name.
 */
export { toOnnx, OPSET, floatInitializers } from './onnx.js';
export type { ToOnnxOptions } from './onnx.js';
