/**
 * CNN-TM (../shared/reference/cnn_tm.py) as a graph: two parallel CNN blocks on the log-mel image, their
 * feature maps concatenated on channels and read as a time-major sequence, a linear projection to d_model,
 * a post-norm Transformer encoder, mean over time, a linear classifier. Shapes for the paper model, batch B:
 *   x [B, 1, 128, 188] -> each block [B, 64, 16, 23] -> concat [B, 128, 16, 23] -> permute [B, 23, 128, 16]
 *   -> reshape [B, 23, 2048] -> proj [B, 23, 128] -> 6 encoder layers -> mean over time [B, 128] -> fc [B, 6].
 * The same builder makes the training forward (batch-norm batch statistics, dropout) and the deployable eval
 * forward (running statistics, no dropout); parameters are whatever tensors the caller passes (graph inputs
 * for training, initializers for the exported model).
 */
import {
  Graph,
  type Tensor,
  add,
  concat,
  div,
  floatInitializers,
  maxPool2d,
  mul,
  reduceMax,
  reduceMean,
  relu,
  reshape,
  softmax,
  sqrt,
  sub,
  toOnnx,
  transpose,
} from '../graph/index.js';
import type { NamedTensor } from '../io/safetensors.js';
import { SerError } from '../errors.js';
import { type EncoderLayerParams, transformerEncoderLayer } from '../nn/attention.js';
import { type Mode, batchNorm2d, conv2dSame, convBatchNorm2dMaxPool, dropout, linear } from '../nn/layers.js';
import { BN_INDEX, CNN_POOLS, CONV_INDEX, type CnnTmConfig, type InputNorm, cnnOutputSize, stateLayout, validateConfig } from './config.js';

export interface CnnTmForward {
  /** [B, nClasses] */
  readonly logits: Tensor;
  /** [B, dModel]: the encoder output averaged over time, what the classifier `fc` reads (and model/corpus-head.ts). */
  readonly pooled: Tensor;
  /** Train mode: new values of every BN running_mean, running_var and num_batches_tracked, by state name. */
  readonly stateUpdates: Map<string, Tensor>;
  /**
   * Train mode: per BatchNorm (by module name, e.g. `a.1`) the batch mean and BIASED batch variance [C] it
   * normalised with, and n = N H W values per channel (for BN re-estimation, trainer.recalibrateBatchNorm).
   * No extra nodes: these are the BatchNormalization node's own outputs.
   */
  readonly batchStatistics: Map<string, { mean: Tensor; variance: Tensor; count: number }>;
}

/**
 * Builds the forward pass on `x` [B, 1, nMels, frames]. `state` maps every state_dict name of
 * stateLayout(config) to a tensor of that shape (num_batches_tracked only needed in train mode).
 */
export function buildCnnTm(x: Tensor, state: ReadonlyMap<string, Tensor>, config: CnnTmConfig, mode: Mode): CnnTmForward {
  validateConfig(config);
  const expected = [x.shape[0] ?? 0, 1, config.nMels, config.frames];
  if (x.shape.length !== 4 || x.shape.some((d, i) => d !== expected[i])) {
    throw new SerError('ESHAPE', 'cnn-tm', `input is [${x.shape.join(', ')}], expected [batch, 1, ${config.nMels}, ${config.frames}]`);
  }
  const get = (name: string): Tensor => {
    const t = state.get(name);
    if (!t) throw new SerError('ESHAPE', 'cnn-tm', `no tensor for state '${name}'`);
    return t;
  };
  const stateUpdates = new Map<string, Tensor>();
  const batchStatistics: CnnTmForward['batchStatistics'] = new Map();
  const g = x.graph;
  const input = normalizeInput(x, config.inputNorm ?? 'none');

  const block = (branch: 'a' | 'b'): Tensor =>
    g.scope(branch, () => {
      let h = input;
      for (let i = 0; i < 3; i++) {
        const conv = `${branch}.${CONV_INDEX[i]}`;
        const bn = `${branch}.${BN_INDEX[i]}`;
        const convParams = { weight: get(`${conv}.weight`), bias: get(`${conv}.bias`) };
        const bnParams = {
          weight: get(`${bn}.weight`),
          bias: get(`${bn}.bias`),
          runningMean: get(`${bn}.running_mean`),
          runningVar: get(`${bn}.running_var`),
        };
        const pool = CNN_POOLS[i];
        // Training with a pool: conv, BN and pool as one (convBatchNorm2dMaxPool: pooled BN output, same values).
        const pooledInTraining = mode === 'train' && pool !== undefined;
        const norm = pooledInTraining
          ? convBatchNorm2dMaxPool(h, convParams, bnParams, pool)
          : batchNorm2d(conv2dSame(h, convParams.weight, convParams.bias), bnParams, mode);
        if (norm.runningMean && norm.runningVar) {
          stateUpdates.set(`${bn}.running_mean`, norm.runningMean);
          stateUpdates.set(`${bn}.running_var`, norm.runningVar);
          stateUpdates.set(`${bn}.num_batches_tracked`, add(get(`${bn}.num_batches_tracked`), g.scalar(1, 'int64')));
        }
        if (norm.batchMean && norm.batchVariance && norm.count !== undefined) {
          batchStatistics.set(bn, { mean: norm.batchMean, variance: norm.batchVariance, count: norm.count });
        }
        // ReLU then MaxPool in cnn_tm.py. max and ReLU commute (relu(max(x)) = max(relu(x)), and the gradient
        // reaches the same element or is zero either way), so training pools first: ReLU and its gradient then
        // run on the 4x (16x) smaller pooled tensor. Eval keeps the reference order, which ORT fuses into
        // Conv+BN+ReLU.
        if (pool === undefined || pooledInTraining) h = relu(norm.output);
        else h = maxPool2d(relu(norm.output), { kernel: [pool, pool] });
        h = dropout(h, config.dropout, mode);
      }
      return h; // [B, 64, nMels/8, frames/8]
    });

  const features = concat([block('a'), block('b')], 1); // [B, 128, F, T]
  const batch = x.shape[0] as number;
  const { height, width } = cnnOutputSize(config);
  const channels = features.shape[1] as number;
  // h.permute(0, 3, 1, 2).reshape(b, t, c * f): time-major sequence, each step the channel-major column. Written
  // as a batched 2-D transpose of [B, C*F, T], the same values; ORT's 4-D transpose for this perm was ~10x slower.
  const sequence = transpose(reshape(features, [batch, channels * height, width]), [0, 2, 1]);
  let h = linear(sequence, get('proj.weight'), get('proj.bias'));
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `enc.layers.${layer}`;
    const params: EncoderLayerParams = {
      selfAttn: {
        inProjWeight: get(`${p}.self_attn.in_proj_weight`),
        inProjBias: get(`${p}.self_attn.in_proj_bias`),
        outProjWeight: get(`${p}.self_attn.out_proj.weight`),
        outProjBias: get(`${p}.self_attn.out_proj.bias`),
      },
      linear1Weight: get(`${p}.linear1.weight`),
      linear1Bias: get(`${p}.linear1.bias`),
      linear2Weight: get(`${p}.linear2.weight`),
      linear2Bias: get(`${p}.linear2.bias`),
      norm1Weight: get(`${p}.norm1.weight`),
      norm1Bias: get(`${p}.norm1.bias`),
      norm2Weight: get(`${p}.norm2.weight`),
      norm2Bias: get(`${p}.norm2.bias`),
    };
    h = g.scope(p, () => transformerEncoderLayer(h, params, { heads: config.heads, dropout: config.dropout, mode }));
  }
  const pooled = reduceMean(h, [1]); // mean over time -> [B, dModel]
  return { logits: linear(pooled, get('fc.weight'), get('fc.bias')), pooled, stateUpdates, batchStatistics };
}

/** Variance floor of the input normalisation (dB^2): a constant image (digital silence) normalises to 0. */
const INPUT_NORM_EPS = 1e-5;

/**
 * x [B, 1, nMels, frames] normalised per clip ('clip': over mels and frames) or per mel band ('band': over
 * frames): (x - mean) / sqrt(biased variance + INPUT_NORM_EPS). Input data, so no gradient flows through it.
 * The mean is taken of x - max(x) (the same value in exact arithmetic): a constant band (the floor top_db clamps
 * silence and empty bands to) is then exactly 0. Averaging the raw dB values left a float32 rounding residue that
 * the small variance floor magnified, and that each ONNX Runtime build (web, node) rounds its own way.
 */
export function normalizeInput(x: Tensor, norm: InputNorm): Tensor {
  if (norm === 'none') return x;
  const axes = norm === 'clip' ? [2, 3] : [3];
  return x.graph.scope('input_norm', () => {
    const shifted = sub(x, reduceMax(x, axes, true));
    const centred = sub(shifted, reduceMean(shifted, axes, true));
    const variance = reduceMean(mul(centred, centred), axes, true);
    return div(centred, sqrt(add(variance, INPUT_NORM_EPS)));
  });
}

/**
 * The batch size the eval graph is built with for a symbolic batch axis (toOnnx's dynamicBatch): a size no
 * dimension of a real CNN-TM graph has (the CNN-to-sequence Reshape holds batch, C F and T, so a frame count equal
 * to it would make toOnnx throw rather than write a wrong model).
 */
export const SYMBOLIC_BATCH = 1_000_003;

/**
 * The deployable eval model: input 'mel' [batch, 1, nMels, frames], outputs 'logits' [batch, nClasses] and
 * 'probabilities' (softmax of the logits); every state_dict tensor is an initializer (num_batches_tracked is
 * not needed and not stored).
 */
export function buildEvalGraph(config: CnnTmConfig, state: ReadonlyMap<string, NamedTensor>, batch: number): Graph {
  const g = new Graph('cnn_tm');
  const mel = g.input('mel', [batch, 1, config.nMels, config.frames]);
  const logits = calibratedLogits(buildCnnTm(mel, stateConstants(g, config, state), config, 'eval').logits, config);
  g.output('logits', logits);
  g.output('probabilities', softmax(logits, -1));
  return g;
}

/**
 * A deployable model's output logits at its config's temperature (CnnTmConfig.temperature): `logits` / T, or
 * `logits` unchanged when the model has none (so a model never calibrated keeps its graph, byte for byte).
 */
export function calibratedLogits(logits: Tensor, config: CnnTmConfig): Tensor {
  const temperature = config.temperature;
  if (temperature === undefined) return logits;
  return logits.graph.scope('temperature', () => div(logits, temperature));
}

/** Every state_dict tensor of an eval model (num_batches_tracked aside) as a constant of `g`, by state name. */
export function stateConstants(g: Graph, config: CnnTmConfig, state: ReadonlyMap<string, NamedTensor>): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const entry of stateLayout(config)) {
    if (entry.role === 'num_batches_tracked') continue;
    const value = state.get(entry.name);
    if (!value) throw new SerError('EARG', 'cnn-tm', `state has no '${entry.name}'`);
    tensors.set(entry.name, g.constant(value.data as Float32Array, entry.shape, 'float32', entry.name));
  }
  return tensors;
}

/** Producer name of the model.onnx files evalOnnx writes. */
const EVAL_PRODUCER = 'speech-emotion CNN-TM';

/**
 * The deployable eval model (buildEvalGraph) as ONNX bytes. `batch` 'dynamic' (default): a symbolic batch axis
 * (toOnnx's dynamicBatch), what `ser train` writes as a run's model.onnx; a number: that fixed batch.
 */
export function evalOnnx(config: CnnTmConfig, state: ReadonlyMap<string, NamedTensor>, batch: number | 'dynamic' = 'dynamic'): Uint8Array {
  if (batch !== 'dynamic') return toOnnx(buildEvalGraph(config, state, batch), { producer: EVAL_PRODUCER });
  return toOnnx(buildEvalGraph(config, state, SYMBOLIC_BATCH), { producer: EVAL_PRODUCER, dynamicBatch: SYMBOLIC_BATCH });
}

/**
 * The weights a model.onnx written by evalOnnx holds, by state_dict name (toOnnx names the constant of state
 * 'a.0.weight' 'a.0.weight_<n>'), for rebuilding the model with the current graph builder (evalOnnx again,
 * scripts/rebuild-model-onnx.ts). `scope`: read the weights built under that graph scope (an ensemble's member,
 * 'member<k>', src/model/ensemble.ts) instead of the top level. num_batches_tracked is not stored and not returned.
 * Throws EFORMAT naming every state entry that is missing or has another shape.
 */
export function evalOnnxState(modelBytes: Uint8Array, config: CnnTmConfig, scope?: string): Map<string, NamedTensor> {
  const byState = new Map<string, { data: Float32Array; shape: number[] }>();
  const prefix = scope === undefined ? '' : `${scope}/`;
  for (const [name, tensor] of floatInitializers(modelBytes)) {
    const local = name.slice(prefix.length);
    if (name.startsWith(prefix) && !local.includes('/')) byState.set(local.replace(/_\d+$/, ''), tensor);
  }
  const state = new Map<string, NamedTensor>();
  const problems: string[] = [];
  for (const entry of stateLayout(config)) {
    if (entry.role === 'num_batches_tracked') continue;
    const tensor = byState.get(entry.name);
    if (!tensor) problems.push(`'${entry.name}' missing`);
    else if (tensor.shape.join() !== entry.shape.join()) {
      problems.push(`'${entry.name}' is [${tensor.shape.join(', ')}], expected [${entry.shape.join(', ')}]`);
    } else state.set(entry.name, tensor);
  }
  if (problems.length > 0) {
    throw new SerError(
      'EFORMAT',
      'cnn-tm',
      `model.onnx does not hold this config's weights${scope === undefined ? '' : ` under '${scope}'`} (${problems.join('; ')}): is it a model written by ser train for this config.json?`,
    );
  }
  return state;
}
