/**
 * The training loop: epochs of seeded minibatch AdamW steps on a CnnTmTrainer, validation after each epoch,
 * early stopping on validation loss with the best weights restored, and an atomic checkpoint after every epoch so
 * `resume: true` continues an interrupted run to the same final result as an uninterrupted one.
 *
 * Determinism: the initial weights come from `seed` (CnnTmTrainer.create), the order of epoch e from
 * `epochOrder(n, seed, e)` (shuffle.ts), dropout masks from `trainer.newEpoch(e)`; nothing else is random, so the
 * same seed, data and thread count give the same history and weights, and a run resumed after epoch k repeats
 * epochs k+1.. exactly (their inputs are the checkpointed state and (seed, epoch)).
 *
 * Batches: each epoch takes floor(n / batchSize) full batches of the shuffled order and DROPS the last incomplete
 * batch (PyTorch's drop_last=True): the training graph has a static batch size, and a tiny last batch would give
 * noisy BatchNorm statistics. Every clip still trains, in a different epoch, because each epoch reshuffles.
 * Evaluation passes cover every clip (the last chunk is zero-padded to the batch size and the padding discarded;
 * eval-mode BatchNorm uses running statistics, so padding cannot change the other rows).
 *
 * BatchNorm re-estimation (`recalibrateBn`, default on): CNN-TM has Dropout before the 2nd and 3rd conv of each
 * block, so the running statistics the training steps collect (momentum 0.1) describe activations WITH dropout,
 * and the eval model (dropout off) normalises with the wrong variance: measured on RAVDESS, paper size, random
 * split, 24.4% test accuracy, near chance, while the training loss kept falling. After each epoch's steps and
 * before the evaluation, checkpoint and best-model save, trainer.recalibrateBatchNorm overwrites every BN's
 * running_mean / running_var (and num_batches_tracked) with the cumulative average over this epoch's full batches,
 * in the epoch's order, with dropout off (torch.optim.swa_utils.update_bn's formula). The steps of the next
 * epoch keep updating those statistics with momentum 0.1 as before; the next recalibration overwrites them
 * again. It is a deterministic function of the weights and (seed, epoch), so resume stays exact. With `emaDecay`
 * the statistics re-estimated are the weight average's (what is evaluated), not the trained weights'.
 */
import { join } from 'node:path';
import { SerError } from '../errors.js';
import { argmax, logitCrossEntropy, probabilityCrossEntropy, softmaxInto } from '../eval/probabilities.js';
import type { CnnTmConfig } from '../model/config.js';
import { CnnTmTrainer } from '../model/trainer.js';
import { reversalStrength } from '../model/corpus-head.js';
import type { NamedTensor } from '../io/safetensors.js';
import {
  BEST_FILE,
  CHECKPOINT_FILE,
  type EpochRecord,
  type LoopState,
  type TrainerState,
  copyState,
  hasCheckpoint,
  loadBest,
  loadCheckpoint,
  saveBest,
  saveCheckpoint,
} from './checkpoint.js';
import { EarlyStopping } from './early-stopping.js';
import { type ProgressMode, type ProgressReporter, createProgress } from './progress.js';
import { epochOrder, weightedEpochOrder } from './shuffle.js';
import { AVERAGE_PREFIX, WeightAverage, withoutAverage } from './weight-average.js';
import { mulberry32, permutation } from '../data/prng.js';

/** Clips as log-mel images: `x` is [count, nMels, frames] row-major, `y[i]` the class index of clip i. */
export interface LabeledFeatures {
  readonly x: Float32Array;
  readonly y: Int32Array;
}

/**
 * Evaluation clips grouped by utterance: `x` holds sum(windows) clips, utterance i's `windows[i]` consecutive
 * windows (test-time crops), whose class probabilities are averaged; `y` has one class per utterance. Without
 * `windows`, one clip per utterance.
 */
export interface EvaluationFeatures extends LabeledFeatures {
  readonly windows?: Int32Array;
}

/**
 * Where training batches come from: `fill` writes the clips and target distributions of the utterances `indices`
 * (augmentation lives there, see augment.ts BatchMaker); `clean` is one unaugmented clip per utterance (BN
 * re-estimation and the training metrics); with `samplingWeights` each epoch draws `count` utterances with
 * replacement in proportion to them (class or corpus balancing), else it is a shuffle of all of them.
 */
export interface TrainingSource {
  readonly count: number;
  /** Target rows carry each utterance's corpus, one-hot over this many, after the classes (corpus-adversarial training). */
  readonly corpora?: number;
  fill(indices: ArrayLike<number>, epoch: number, batchIndex: number, x: Float32Array, targets: Float32Array): void;
  readonly clean: LabeledFeatures;
  readonly samplingWeights?: Float32Array;
}

/** A TrainingSource over fixed clips: each batch is its clips as they are with one-hot targets. */
export function fixedClips(data: LabeledFeatures, nClasses: number): TrainingSource {
  const clipSize = data.y.length === 0 ? 0 : data.x.length / data.y.length;
  return {
    count: data.y.length,
    clean: data,
    fill(indices, _epoch, _batch, x, targets) {
      targets.fill(0);
      for (let i = 0; i < indices.length; i++) {
        const clip = indices[i] as number;
        x.set(data.x.subarray(clip * clipSize, (clip + 1) * clipSize), i * clipSize);
        targets[i * nClasses + (data.y[clip] as number)] = 1;
      }
    },
  };
}

export interface Hyperparameters {
  /** Epoch budget (default 150, the paper's). */
  epochs: number;
  /** Epochs without a validation-loss improvement before stopping (default 10). */
  patience: number;
  /** Minibatch size (default 32). */
  batchSize: number;
  /** AdamW learning rate (default 1e-4). */
  lr: number;
  /** AdamW betas (default [0.9, 0.999], PyTorch's). */
  betas: [number, number];
  /** AdamW epsilon (default 1e-8). */
  eps: number;
  /** AdamW decoupled weight decay (default 0.01, PyTorch's). */
  weightDecay: number;
  /**
   * Re-estimate the BatchNorm running statistics with dropout off after each epoch's steps (default true; see
   * the file comment).
   */
  recalibrateBn: boolean;
  /** Epochs of linear learning-rate warm-up from 0 (default 0: none). */
  warmupEpochs?: number;
  /** Learning-rate decay over the epoch budget: 'cosine' to 0 at the last step (Loshchilov and Hutter 2017), or 'none' (default). */
  lrDecay?: 'none' | 'cosine';
  /**
   * What picks the best epoch (whose weights the run keeps) and stops training after `patience` epochs without a
   * better one: 'val_loss' (default, lower is better) or 'val_uar' (validation unweighted average recall, higher is
   * better: for runs whose validation loss stops following recall, as with label smoothing and mixup; RESULTS.md).
   */
  monitor?: Monitor;
  /**
   * Keep an exponential moving average of the weights with this decay per step (weight-average.ts) and evaluate,
   * select and keep it instead of the trained weights (which training goes on from, so the trajectory is the same
   * as without it). The epoch records' training accuracy and validation metrics are then the average's. Off when
   * absent.
   */
  emaDecay?: number;
  /**
   * Corpus-adversarial training (model/corpus-head.ts): the largest gradient-reversal strength lambda, reached by
   * DANN's ramp over the run's steps (reversalStrength); the training source must carry corpus targets
   * (TrainingSource.corpora). The epoch records then hold the corpus classifier's loss. Off when absent.
   */
  corpusAdversarial?: number;
  /**
   * What the adversarial head (corpusAdversarial) tells apart: 'corpus' (DANN over the training corpora, the default)
   * or 'speaker' (the training part's speakers: speaker-adversarial training, as Li et al. 2020, "Speaker-invariant
   * affective representation learning via adversarial training", ICASSP). Only with corpusAdversarial.
   */
  adversary?: 'corpus' | 'speaker';
  /**
   * After training, fit a temperature on the validation part and write it into the deployable model
   * (model.temperature; src/infer/calibrate.ts, as `ser calibrate` does): calibrated probabilities; each window's class is
   * unchanged (a recording's, the mean over its windows, rarely moves).
   * Off when absent.
   */
  calibrate?: boolean;
}

/** The validation metrics early stopping can follow (Hyperparameters.monitor). */
export const MONITORS = ['val_loss', 'val_uar'] as const;
export type Monitor = (typeof MONITORS)[number];

/** The value early stopping minimises for `monitor`: the validation loss, or minus the validation UAR. */
function monitoredValue(record: EpochRecord, monitor: Monitor): number {
  return monitor === 'val_uar' ? -(record.val_uar as number) : (record.val_loss as number);
}

/**
 * The learning rate of 1-based step `step` of `totalSteps`: lr times the warm-up ramp min(1, step / warmupSteps)
 * times the decay (cosine: (1 + cos(pi (step - 1) / totalSteps)) / 2).
 */
export function learningRateAt(
  hyper: Pick<Hyperparameters, 'lr' | 'warmupEpochs' | 'lrDecay'>,
  step: number,
  stepsPerEpoch: number,
  totalSteps: number,
): number {
  const warmupSteps = (hyper.warmupEpochs ?? 0) * stepsPerEpoch;
  const ramp = warmupSteps > 0 ? Math.min(1, step / warmupSteps) : 1;
  const decay = hyper.lrDecay === 'cosine' ? (1 + Math.cos((Math.PI * (step - 1)) / totalSteps)) / 2 : 1;
  return hyper.lr * ramp * decay;
}

export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  epochs: 150,
  patience: 10,
  batchSize: 32,
  lr: 1e-4,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 0.01,
  recalibrateBn: true,
});

export interface TrainOptions {
  model: CnnTmConfig;
  /** Fixed clips (each epoch a shuffle of them), or a source of (augmented) batches. */
  train: LabeledFeatures | TrainingSource;
  /**
   * The validation part, scored after every epoch to pick the kept epoch and stop early. Empty (no clips): a final
   * fit on everything outside the test part: every epoch of the budget is trained and the last one is kept (its
   * weight average with `emaDecay`); the records' validation fields are null.
   */
  val: EvaluationFeatures;
  seed: number;
  hyper?: Partial<Hyperparameters>;
  /** ORT intra-op threads (default: the trainer's). */
  threads?: number;
  /** Where checkpoints go; none are written without it. */
  runDir?: string;
  /** Continue from `runDir`'s checkpoint (error if there is none). */
  resume?: boolean;
  /**
   * Weights to start from instead of the seeded initialisation (a state_dict, e.g. fine-tune.ts fineTuneWeights);
   * AdamW's moments start at zero. Ignored when resuming: the checkpoint holds the weights.
   */
  initialWeights?: ReadonlyMap<string, NamedTensor>;
  /** Abort between steps: the unfinished epoch is discarded, the last end-of-epoch checkpoint stays. */
  signal?: AbortSignal;
  /** Progress display on stderr (default 'auto': a bar on a TTY, else one line per epoch). */
  progress?: ProgressMode;
  /** Called after each completed epoch (after its checkpoint is written). */
  onEpoch?: (record: EpochRecord) => void;
}

export interface TrainResult {
  /** The trainer, holding the best epoch's weights unless `interrupted`. Call `release()` when done. */
  trainer: CnnTmTrainer;
  history: EpochRecord[];
  bestEpoch: number;
  /** The kept epoch's validation loss (NaN without a validation part). */
  bestValLoss: number;
  /** Why training ended: early stopping, the epoch budget, or an abort (Ctrl-C). */
  finished: 'stopped' | 'max-epochs' | 'interrupted';
  /** Effective hyper-parameters (defaults filled in). */
  hyper: Hyperparameters;
}

/** Mean cross-entropy (nats) and accuracy of logits [count, nClasses] against labels; float64 log-sum-exp. */
export function lossAndAccuracy(logits: Float32Array, y: Int32Array, nClasses: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    const row = logits.subarray(i * nClasses, (i + 1) * nClasses);
    loss += logitCrossEntropy(row, y[i]!);
    if (argmax(row) === y[i]) correct++;
  }
  return { loss: loss / y.length, accuracy: correct / y.length };
}

/**
 * Mean cross-entropy (nats), accuracy and unweighted average recall (over the classes present) of an evaluation
 * set from its clips' logits: each utterance's probability is the mean of its windows' softmax (float64).
 */
export function evaluationMetrics(
  logits: Float32Array,
  set: EvaluationFeatures,
  nClasses: number,
): { loss: number; accuracy: number; uar: number } {
  const count = set.y.length;
  const hits = new Float64Array(nClasses);
  const support = new Float64Array(nClasses);
  const mean = new Float64Array(nClasses);
  const probabilities = new Float64Array(nClasses);
  let loss = 0;
  let correct = 0;
  let clip = 0;
  for (let i = 0; i < count; i++) {
    const windows = set.windows?.[i] ?? 1;
    mean.fill(0);
    for (let w = 0; w < windows; w++, clip++) {
      softmaxInto(logits.subarray(clip * nClasses, (clip + 1) * nClasses), probabilities);
      for (let c = 0; c < nClasses; c++) mean[c]! += probabilities[c]! / windows;
    }
    const label = set.y[i]!;
    loss += probabilityCrossEntropy(mean[label]!);
    support[label]!++;
    if (argmax(mean) === label) {
      correct++;
      hits[label]!++;
    }
  }
  let recall = 0;
  let present = 0;
  for (let c = 0; c < nClasses; c++) {
    if (support[c]! > 0) {
      recall += hits[c]! / support[c]!;
      present++;
    }
  }
  return { loss: loss / count, accuracy: correct / count, uar: present > 0 ? recall / present : 0 };
}

/**
 * Eval-mode logits [count, nClasses] for every clip of `x` ([count, nMels, frames]), in chunks of `batchSize`
 * (the last one zero-padded; see the file comment).
 */
export async function predictLogits(
  trainer: CnnTmTrainer,
  x: Float32Array,
  count: number,
  batchSize: number,
  nClasses: number,
): Promise<Float32Array> {
  const clipSize = x.length / count;
  const logits = new Float32Array(count * nClasses);
  for (let start = 0; start < count; start += batchSize) {
    const rows = Math.min(batchSize, count - start);
    let chunk = x.subarray(start * clipSize, (start + rows) * clipSize);
    if (rows < batchSize) {
      const padded = new Float32Array(batchSize * clipSize);
      padded.set(chunk);
      chunk = padded;
    }
    const out = await trainer.predict(chunk, batchSize);
    logits.set(out.subarray(0, rows * nClasses), start * nClasses);
  }
  return logits;
}

function checkData(name: string, data: EvaluationFeatures, model: CnnTmConfig): void {
  const clipSize = model.nMels * model.frames;
  const count = data.y.length;
  if (count === 0) throw new SerError('EDATA', 'train', `the ${name} set is empty`);
  let clips = count;
  if (data.windows) {
    if (data.windows.length !== count || data.windows.some((w) => !(w >= 1))) {
      throw new SerError('ESHAPE', 'train', `${name} windows: ${data.windows.length} counts for ${count} utterances, each must be >= 1`);
    }
    clips = data.windows.reduce((a, b) => a + b, 0);
  }
  if (data.x.length !== clips * clipSize) {
    throw new SerError(
      'ESHAPE',
      'train',
      `${name} features hold ${data.x.length} values; ${clips} clips of ${model.nMels} mels x ${model.frames} frames need ${clips * clipSize}`,
    );
  }
  for (let i = 0; i < count; i++) {
    const label = data.y[i]!;
    if (!(label >= 0 && label < model.nClasses)) {
      throw new SerError(
        'EDATA',
        'train',
        `${name} clip ${i} has class ${label}; the model has ${model.nClasses} classes (0..${model.nClasses - 1})`,
      );
    }
  }
}

function checkHyper(hyper: Hyperparameters): void {
  const problems: string[] = [];
  if (!Number.isInteger(hyper.epochs) || hyper.epochs < 1) problems.push(`epochs must be an integer >= 1 (${hyper.epochs} given)`);
  if (!Number.isInteger(hyper.batchSize) || hyper.batchSize < 2)
    problems.push(`batch size must be an integer >= 2 (${hyper.batchSize} given)`);
  if (!(hyper.lr > 0)) problems.push(`learning rate must be > 0 (${hyper.lr} given)`);
  if (hyper.warmupEpochs !== undefined && !(hyper.warmupEpochs >= 0))
    problems.push(`warm-up epochs must be >= 0 (${hyper.warmupEpochs} given)`);
  if (hyper.lrDecay !== undefined && hyper.lrDecay !== 'none' && hyper.lrDecay !== 'cosine') {
    problems.push(`learning-rate decay must be 'none' or 'cosine' ('${hyper.lrDecay}' given)`);
  }
  if (hyper.monitor !== undefined && !MONITORS.includes(hyper.monitor))
    problems.push(`the monitored metric must be ${MONITORS.join(' or ')} ('${hyper.monitor}' given)`);
  if (hyper.emaDecay !== undefined && !(hyper.emaDecay > 0 && hyper.emaDecay < 1))
    problems.push(`the weight-average decay must be in (0, 1) (${hyper.emaDecay} given)`);
  if (hyper.corpusAdversarial !== undefined && !(hyper.corpusAdversarial > 0 && Number.isFinite(hyper.corpusAdversarial)))
    problems.push(`the ${hyper.adversary ?? 'corpus'}-adversarial strength must be a number > 0 (${hyper.corpusAdversarial} given)`);
  if (hyper.adversary !== undefined && hyper.corpusAdversarial === undefined)
    problems.push(`an adversary ('${hyper.adversary}') needs the adversarial head's strength (corpusAdversarial)`);
  if (problems.length > 0) throw new SerError('EARG', 'train', problems.join('; '));
}

/**
 * The best model saved beside a checkpoint. best.safetensors is written before checkpoint.safetensors, so it is
 * either the checkpoint's best epoch or, after a crash between the two writes, the epoch after the checkpoint
 * (which the resumed run repeats and saves again). Anything else means files from different runs.
 */
function bestForResume(runDir: string, loop: LoopState): TrainerState | null {
  const best = loadBest(runDir);
  const expected = loop.earlyStopping.bestEpoch;
  if (expected === 0 && best === null) return null;
  if (best === null || (best.epoch !== expected && best.epoch !== loop.epoch + 1)) {
    throw new SerError(
      'EFORMAT',
      'train',
      `${runDir}: the checkpoint's best epoch is ${expected} but ${BEST_FILE} ${best === null ? 'is missing' : `is from epoch ${best.epoch}`}; ` +
        'the run directory mixes files of different runs: start a new run',
    );
  }
  return best.state;
}

/** Trains; see the file comment for batching, determinism and checkpoints. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, seed } = options;
  const hyper: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...options.hyper };
  checkHyper(hyper);
  const source = 'fill' in options.train ? options.train : fixedClips(options.train, model.nClasses);
  checkTrainInputs(options, hyper, source);
  const stopper = new EarlyStopping(hyper.patience);
  const monitor = hyper.monitor ?? 'val_loss';
  // Read (or refuse) the checkpoint before building the trainer: errors come before any expensive work.
  const resumed = resumeFrom(options, hyper, stopper);
  let { finished, best } = resumed;
  const { history, startEpoch } = resumed;

  const trainer = await CnnTmTrainer.create(model, {
    batchSize: hyper.batchSize,
    lr: hyper.lr,
    betas: hyper.betas,
    eps: hyper.eps,
    weightDecay: hyper.weightDecay,
    seed,
    threads: options.threads,
    ...(hyper.corpusAdversarial !== undefined ? { corpora: source.corpora } : {}),
  });
  try {
    if (resumed.checkpoint) trainer.loadState(withoutAverage(resumed.checkpoint));
    else if (options.initialWeights) trainer.loadState(options.initialWeights);
    const average = weightAverageFor(hyper, trainer, resumed.checkpoint, options.runDir);
    const epochs = new EpochRunner(options, hyper, source, trainer, average);
    epochs.progress.start(hyper.epochs * epochs.batchesPerEpoch, (startEpoch - 1) * epochs.batchesPerEpoch);
    let interrupted = false;
    try {
      for (let epoch = startEpoch; epoch <= hyper.epochs && finished === null; epoch++) {
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        const outcome = await epochs.run(epoch);
        if (outcome === null) {
          interrupted = true;
          break;
        }
        const { record, evaluated } = outcome;
        history.push(record);
        // Without a validation part every epoch improves on the one before (minus the epoch number falls), so
        // training never stops early and the last epoch is kept.
        const decision = stopper.update(epoch, epochs.validating ? monitoredValue(record, monitor) : -epoch);
        if (decision.improved) {
          best = copyState(evaluated);
          if (options.runDir) saveBest(options.runDir, best, epoch, record.val_loss ?? Number.NaN);
        }
        finished = decision.stop ? 'stopped' : epoch === hyper.epochs ? 'max-epochs' : null;
        epochs.saveCheckpoint(epoch, stopper, finished, history);
        epochs.progress.epochEnd(record, stopper.state().bestEpoch);
        options.onEpoch?.(record);
        if (decision.stop) {
          epochs.progress.log(
            `early stopping: no validation-${monitor === 'val_uar' ? 'UAR' : 'loss'} improvement for ${hyper.patience} epochs; best epoch ${stopper.state().bestEpoch}`,
          );
        }
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
    } finally {
      epochs.progress.stop();
    }
    // `finished` is still null only when resumed with a budget below the checkpoint's epoch: count that as the budget.
    const state = stopper.state();
    if (!interrupted && best) trainer.loadState(best);
    return {
      trainer,
      history,
      bestEpoch: state.bestEpoch,
      bestValLoss: !epochs.validating
        ? Number.NaN
        : ((history.find((record) => record.epoch === state.bestEpoch)?.val_loss as number | undefined) ?? state.bestLoss),
      finished: interrupted ? 'interrupted' : (finished ?? 'max-epochs'),
      hyper,
    };
  } catch (error) {
    await trainer.release();
    throw error;
  }
}

/** Refuses data that does not fit the model, too few clips for a batch, and resume without a run directory. */
function checkTrainInputs(options: TrainOptions, hyper: Hyperparameters, source: TrainingSource): void {
  checkData('training', source.clean, options.model);
  if (options.val.y.length > 0) checkData('validation', options.val, options.model);
  if (source.count < hyper.batchSize) {
    throw new SerError(
      'EDATA',
      'train',
      `${source.count} training clips are fewer than one batch of ${hyper.batchSize}; lower --batch-size or add data`,
    );
  }
  if (options.resume && !options.runDir)
    throw new SerError('EARG', 'train', 'resume needs the run directory (runDir) holding the checkpoint');
  if (hyper.corpusAdversarial !== undefined && !(source.corpora !== undefined && source.corpora >= 2))
    throw new SerError(
      'EARG',
      'train',
      'corpus-adversarial training needs training data from at least 2 corpora, with their corpus targets',
    );
}

/**
 * Where training starts: from the checkpoint of `options.runDir` when resuming (history, epoch, early-stopping
 * state, best weights, trainer state), else from nothing; refuses to start over a run directory that holds one.
 */
function resumeFrom(
  options: TrainOptions,
  hyper: Hyperparameters,
  stopper: EarlyStopping,
): {
  history: EpochRecord[];
  startEpoch: number;
  best: TrainerState | null;
  finished: LoopState['finished'];
  checkpoint: TrainerState | null;
} {
  const { runDir } = options;
  if (options.resume && runDir) {
    const checkpoint = loadCheckpoint(runDir);
    stopper.loadState(checkpoint.loop.earlyStopping);
    let finished = checkpoint.loop.finished;
    // A run that used up a smaller epoch budget continues when resumed with a larger one.
    if (finished === 'max-epochs' && hyper.epochs > checkpoint.loop.epoch) finished = null;
    const best = bestForResume(runDir, checkpoint.loop);
    return { history: checkpoint.loop.history, startEpoch: checkpoint.loop.epoch + 1, best, finished, checkpoint: checkpoint.state };
  }
  if (runDir && hasCheckpoint(runDir)) {
    throw new SerError('EARG', 'train', `${runDir} already holds a checkpoint; resume it or choose another run directory`);
  }
  return { history: [], startEpoch: 1, best: null, finished: null, checkpoint: null };
}

/** The weight average of a run with `emaDecay`: restored from the checkpoint when resuming, else started from the trainer's weights. */
function weightAverageFor(
  hyper: Hyperparameters,
  trainer: CnnTmTrainer,
  checkpoint: TrainerState | null,
  runDir: string | undefined,
): WeightAverage | null {
  const path = join(runDir ?? '', CHECKPOINT_FILE);
  if (hyper.emaDecay === undefined) {
    if (checkpoint && [...checkpoint.keys()].some((key) => key.startsWith(AVERAGE_PREFIX))) {
      throw new SerError('EARG', 'train', `${path} holds a weight average: resume the run with the emaDecay it was started with`);
    }
    return null;
  }
  if (checkpoint) return WeightAverage.fromCheckpoint(hyper.emaDecay, checkpoint, path);
  return new WeightAverage(hyper.emaDecay, trainer.state());
}

/** One epoch at a time: the steps in the epoch's seeded order, BN re-estimation, both evaluations, the checkpoint. */
class EpochRunner {
  readonly batchesPerEpoch: number;
  /** Whether there is a validation part to score each epoch (TrainOptions.val). */
  readonly validating: boolean;
  readonly progress: ProgressReporter;
  private readonly totalSteps: number;
  private readonly clipSize: number;
  private readonly metricsSet: LabeledFeatures;
  private readonly batchX: Float32Array;
  private readonly batchTargets: Float32Array;

  constructor(
    private readonly options: TrainOptions,
    private readonly hyper: Hyperparameters,
    private readonly source: TrainingSource,
    private readonly trainer: CnnTmTrainer,
    private readonly average: WeightAverage | null,
  ) {
    const { model } = options;
    this.batchesPerEpoch = Math.floor(source.count / hyper.batchSize);
    this.validating = options.val.y.length > 0;
    this.totalSteps = hyper.epochs * this.batchesPerEpoch;
    this.clipSize = model.nMels * model.frames;
    this.metricsSet = trainingMetricsSet(source.clean, this.clipSize, options.seed);
    this.progress = createProgress(options.progress ?? 'auto', hyper.epochs);
    this.batchX = new Float32Array(hyper.batchSize * this.clipSize);
    this.batchTargets = new Float32Array(hyper.batchSize * trainer.targetWidth);
  }

  /**
   * Trains and evaluates epoch `epoch`: its record and the evaluated model state (the trained weights, or their
   * average with `emaDecay`); null when aborted during its steps (the epoch is discarded).
   */
  async run(epoch: number): Promise<{ record: EpochRecord; evaluated: TrainerState } | null> {
    const { hyper, source, trainer, options, average } = this;
    const started = performance.now();
    trainer.newEpoch(epoch);
    const order = source.samplingWeights
      ? weightedEpochOrder(source.samplingWeights, source.count, options.seed, epoch)
      : epochOrder(source.count, options.seed, epoch);
    let lossSum = 0;
    let corpusLossSum = 0;
    let lr = hyper.lr;
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      source.fill(order.subarray(b * hyper.batchSize, (b + 1) * hyper.batchSize), epoch, b, this.batchX, this.batchTargets);
      const step = (epoch - 1) * this.batchesPerEpoch + b + 1;
      lr = learningRateAt(hyper, step, this.batchesPerEpoch, this.totalSteps);
      trainer.setLearningRate(lr);
      const reversal = hyper.corpusAdversarial === undefined ? 0 : reversalStrength(hyper.corpusAdversarial, (step - 1) / this.totalSteps);
      // A non-finite loss is an ERUNTIME error from the trainer, raised before the weights are updated.
      const { loss, corpusLoss } = await trainer.trainStep(this.batchX, this.batchTargets, reversal);
      // The record's training loss is the emotion term alone, comparable with runs without the corpus head.
      const emotionLoss = loss - (corpusLoss ?? 0);
      lossSum += emotionLoss;
      corpusLossSum += corpusLoss ?? 0;
      average?.update(trainer.state(), trainer.stepCount);
      this.progress.step(epoch, emotionLoss);
      if (options.signal?.aborted) return null;
    }
    if (!average) {
      if (hyper.recalibrateBn) await trainer.recalibrateBatchNorm(source.clean.x, source.count, order);
      return { record: await this.evaluate(epoch, lossSum, lr, started, corpusLossSum), evaluated: trainer.state() };
    }
    // The average is evaluated (with BN statistics re-estimated for its weights), then the trained weights return.
    // Their own BN statistics are not re-estimated: only evaluation reads running statistics (training steps
    // normalise with the batch's), so the steps and the average are the same either way.
    const trained = trainer.state();
    trainer.loadState(average.applyTo(trained));
    if (hyper.recalibrateBn) await trainer.recalibrateBatchNorm(source.clean.x, source.count, order);
    const record = await this.evaluate(epoch, lossSum, lr, started, corpusLossSum);
    const evaluated = trainer.state();
    trainer.loadState(trained);
    return { record, evaluated };
  }

  /** The epoch's record: training loss, eval-mode metrics on the training clips and the validation part. */
  private async evaluate(epoch: number, lossSum: number, lr: number, started: number, corpusLossSum: number): Promise<EpochRecord> {
    const { trainer, hyper, options, metricsSet } = this;
    const { nClasses } = options.model;
    const trainLogits = await predictLogits(trainer, metricsSet.x, metricsSet.y.length, hyper.batchSize, nClasses);
    const trainMetrics = lossAndAccuracy(trainLogits, metricsSet.y, nClasses);
    let validation: Pick<EpochRecord, 'val_loss' | 'val_accuracy' | 'val_uar'> = { val_loss: null, val_accuracy: null };
    if (this.validating) {
      const valClips = options.val.x.length / this.clipSize;
      const valLogits = await predictLogits(trainer, options.val.x, valClips, hyper.batchSize, nClasses);
      const valMetrics = evaluationMetrics(valLogits, options.val, nClasses);
      validation = { val_loss: valMetrics.loss, val_accuracy: valMetrics.accuracy, val_uar: valMetrics.uar };
    }
    return {
      epoch,
      train_loss: lossSum / this.batchesPerEpoch,
      train_accuracy: trainMetrics.accuracy,
      ...validation,
      ...(hyper.corpusAdversarial !== undefined ? { train_corpus_loss: corpusLossSum / this.batchesPerEpoch } : {}),
      lr,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** The end-of-epoch checkpoint (trainer state and loop state), when the run has a directory. */
  saveCheckpoint(epoch: number, stopper: EarlyStopping, finished: LoopState['finished'], history: EpochRecord[]): void {
    if (!this.options.runDir) return;
    const state = this.trainer.state();
    if (this.average) for (const [key, tensor] of this.average.checkpointEntries()) state.set(key, tensor);
    saveCheckpoint(this.options.runDir, state, {
      epoch,
      earlyStopping: stopper.state(),
      shuffle: {
        algorithm: this.source.samplingWeights
          ? 'mulberry32(epochSeed(seed, epoch)) weighted sampling with replacement'
          : 'mulberry32(epochSeed(seed, epoch)) + Fisher-Yates',
        seed: this.options.seed,
      },
      finished,
      history,
    });
  }
}

/** Most clean training clips scored each epoch for the training accuracy (a seeded subset beyond it). */
const TRAIN_METRICS_CLIPS = 2048;

/** The clean training clips the epoch's training accuracy is measured on: all, or a seeded subset of TRAIN_METRICS_CLIPS. */
function trainingMetricsSet(clean: LabeledFeatures, clipSize: number, seed: number): LabeledFeatures {
  const count = clean.y.length;
  if (count <= TRAIN_METRICS_CLIPS) return clean;
  const chosen = permutation(count, mulberry32(seed ^ 0x7a11))
    .subarray(0, TRAIN_METRICS_CLIPS)
    .sort();
  const x = new Float32Array(chosen.length * clipSize);
  const y = new Int32Array(chosen.length);
  chosen.forEach((clip, i) => {
    x.set(clean.x.subarray(clip * clipSize, (clip + 1) * clipSize), i * clipSize);
    y[i] = clean.y[clip] as number;
  });
  return { x, y };
}
