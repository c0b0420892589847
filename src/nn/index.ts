/**
 * Layers of CNN-TM as graph-building functions (PyTorch numerics, parameters passed as tensors), and the
 * gradient rules of the ops defined here (pass `{ rules: NN_GRADIENTS }` to `gradients`).
 */
import type { GradientRule } from '../graph/index.js';
import { BATCH_NORM_OP, batchNormGradient } from './batch-norm.js';

export {
  type Mode,
  type BatchNormParams,
  type BatchNormResult,
  batchNorm2d,
  conv2dSame,
  convBatchNorm2dMaxPool,
  dropout,
  layerNorm,
  linear,
} from './layers.js';
export { type AttentionParams, type EncoderLayerParams, multiHeadSelfAttention, transformerEncoderLayer } from './attention.js';
export { crossEntropy, softCrossEntropy } from './loss.js';
export { batchNormTraining, batchNormInference } from './batch-norm.js';
export { Rng } from './random.js';
export { DROPOUT_MASK, type DropoutMaskInput, DropoutMaskGenerator, dropoutMaskInputs, fillDropoutMask } from './dropout.js';

/** Gradient rules for the ops src/nn adds to graphs (training-mode BatchNormalization). */
export const NN_GRADIENTS: Readonly<Record<string, GradientRule>> = Object.freeze({ [BATCH_NORM_OP]: batchNormGradient });
