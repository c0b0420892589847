/**
 * The training graph of CNN-TM for one (config, batch size, AdamW options): forward in train mode,
 * cross-entropy, reverse-mode gradients, BN running-statistics updates and one AdamW step, all in one ONNX
 * model that one ONNX Runtime session runs per training step.
 *
 * Inputs : mel [B, 1, nMels, frames] f32, targets [B, nClasses] f32 (a distribution per clip: one-hot for plain
 *          labels; smoothed, mixed or weighted rows for the recipe's options, see softCrossEntropy), step [] f64
 *          (1-based AdamW step), lr [] f64,
 *          every state_dict entry by its PyTorch name, `exp_avg/<param>` and `exp_avg_sq/<param>` per parameter.
 * Outputs: loss [] f32, logits [B, nClasses] (train mode, before the update), `new/<name>` for every input
 *          that is state (parameters, running stats, num_batches_tracked, moments), and with `exposeGradients`
 *          `grad/<param>` (used by the parity tests).
 * With `corpora` (corpus-adversarial training, corpus-head.ts): targets are [B, nClasses + corpora] (each row's
 * emotion distribution, then its corpus distribution), an input `reversal` [] f32 is lambda, the head's weights
 * are state like the others, loss = emotion cross-entropy + corpus cross-entropy, and `corpus_loss` [] f32 is the
 * second term alone.
 */
import { Graph, type Tensor, add, gradients, mul, slice } from '../graph/index.js';
import { NN_GRADIENTS, softCrossEntropy } from '../nn/index.js';
import { type AdamWOptions, adamwStepScalars, adamwUpdate, resolveAdamW } from '../nn/adamw.js';
import { buildCnnTm } from './cnn-tm.js';
import { type CnnTmConfig, type StateEntry, stateLayout } from './config.js';
import { corpusHeadLayout, corpusHeadLogits } from './corpus-head.js';

export const EXP_AVG = 'exp_avg/';
export const EXP_AVG_SQ = 'exp_avg_sq/';
export const NEW = 'new/';
export const GRAD = 'grad/';
export const BATCH_MEAN = 'batch_mean/';
export const BATCH_VAR = 'batch_var/';

export interface TrainGraphOptions {
  readonly batch: number;
  readonly adamw?: AdamWOptions;
  /** Also output `grad/<param>` for every parameter (default false). */
  readonly exposeGradients?: boolean;
  /** Corpora of the corpus-adversarial head (see the module comment); absent: no head. */
  readonly corpora?: number;
}

/** The training state's layout: the model's state_dict, and the corpus head's weights when it has `corpora`. */
export function trainingLayout(config: CnnTmConfig, corpora?: number): StateEntry[] {
  return corpora === undefined ? stateLayout(config) : [...stateLayout(config), ...corpusHeadLayout(config.dModel, corpora)];
}

export function buildTrainGraph(config: CnnTmConfig, options: TrainGraphOptions): Graph {
  const { corpora } = options;
  const layout = trainingLayout(config, corpora);
  const adamw = resolveAdamW(options.adamw);
  const g = new Graph('cnn_tm_train_step');
  const mel = g.input('mel', [options.batch, 1, config.nMels, config.frames]);
  const targets = g.input('targets', [options.batch, config.nClasses + (corpora ?? 0)]);
  const step = g.input('step', [], 'float64');
  const lr = g.input('lr', [], 'float64');
  const state = new Map<string, Tensor>();
  for (const entry of layout) state.set(entry.name, g.input(entry.name, entry.shape, entry.dtype));
  const params = layout.filter((entry) => entry.role === 'parameter');
  const moments = new Map(params.map((p) => [p.name, { m: g.input(EXP_AVG + p.name, p.shape), v: g.input(EXP_AVG_SQ + p.name, p.shape) }]));

  const { logits, pooled, stateUpdates } = buildCnnTm(mel, state, config, 'train');
  let loss: Tensor;
  if (corpora === undefined) {
    loss = softCrossEntropy(logits, targets);
  } else {
    const reversal = g.input('reversal', []);
    const corpusLoss = g.scope('corpus_head', () =>
      softCrossEntropy(corpusHeadLogits(pooled, state, reversal), slice(targets, [config.nClasses], [config.nClasses + corpora], [1])),
    );
    loss = add(softCrossEntropy(logits, slice(targets, [0], [config.nClasses], [1])), corpusLoss);
    g.output('corpus_loss', corpusLoss);
  }
  g.output('loss', loss);
  g.output('logits', logits);

  const grads = g.scope('backward', () =>
    gradients(
      loss,
      params.map((p) => state.get(p.name) as Tensor),
      { rules: NN_GRADIENTS },
    ),
  );
  g.scope('adamw', () => {
    const scalars = adamwStepScalars(step, lr, adamw);
    params.forEach((p, i) => {
      const grad = grads[i] as Tensor;
      const updated = adamwUpdate(state.get(p.name) as Tensor, grad, moments.get(p.name) as { m: Tensor; v: Tensor }, scalars, adamw);
      g.output(NEW + p.name, updated.param);
      g.output(NEW + EXP_AVG + p.name, updated.m);
      g.output(NEW + EXP_AVG_SQ + p.name, updated.v);
      if (options.exposeGradients) g.output(GRAD + p.name, grad);
    });
  });
  for (const [name, tensor] of stateUpdates) g.output(NEW + name, tensor);
  return g;
}

/**
 * The forward-only graph of BN re-estimation (CnnTmTrainer.recalibrateBatchNorm): the train-mode forward of
 * buildCnnTm with dropout 0, so every BatchNorm normalises with its batch statistics on the activations the
 * eval model sees. No loss, gradients or AdamW; toOnnx keeps only the CNN blocks, the nodes the outputs need.
 *
 * Inputs : mel [batch, 1, nMels, frames] f32 and every state_dict entry by its PyTorch name (the encoder's are
 *          declared but unused).
 * Outputs: per BatchNorm module (`a.1`, ..., `b.11`) `batch_mean/<bn>` [C] and `batch_var/<bn>` [C], the
 *          UNBIASED batch variance var * n / (n - 1) with n = batch H W, as torch's running_var update uses.
 */
export function buildBatchStatsGraph(config: CnnTmConfig, batch: number): Graph {
  const g = new Graph('cnn_tm_batch_stats');
  const mel = g.input('mel', [batch, 1, config.nMels, config.frames]);
  const state = new Map<string, Tensor>();
  for (const entry of stateLayout(config)) state.set(entry.name, g.input(entry.name, entry.shape, entry.dtype));
  const { batchStatistics } = buildCnnTm(mel, state, { ...config, dropout: 0 }, 'train');
  for (const [bn, { mean, variance, count }] of batchStatistics) {
    g.output(BATCH_MEAN + bn, mean);
    g.output(BATCH_VAR + bn, mul(variance, count / Math.max(count - 1, 1)));
  }
  return g;
}
