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
 * again. It is a deterministic function of the weights and (seed, epoch), so resume stays exact.
 */
import { SerError } from '../errors.js';
import type { CnnTmConfig } from '../model/config.js';
import { CnnTmTrainer } from '../model/trainer.js';
import {
  BEST_FILE,
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
import { epochOrder } from './shuffle.js';

/** Clips as log-mel images: `x` is [count, nMels, frames] row-major, `y[i]` the class index of clip i. */
export interface LabeledFeatures {
  readonly x: Float32Array;
  readonly y: Int32Array;
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
  train: LabeledFeatures;
  val: LabeledFeatures;
  seed: number;
  hyper?: Partial<Hyperparameters>;
  /** ORT intra-op threads (default: the trainer's). */
  threads?: number;
  /** Where checkpoints go; none are written without it. */
  runDir?: string;
  /** Continue from `runDir`'s checkpoint (error if there is none). */
  resume?: boolean;
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
    let max = Number.NEGATIVE_INFINITY;
    let argmax = 0;
    for (let c = 0; c < nClasses; c++) {
      if (row[c]! > max) {
        max = row[c]!;
        argmax = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < nClasses; c++) sum += Math.exp(row[c]! - max);
    loss += max + Math.log(sum) - row[y[i]!]!;
    if (argmax === y[i]) correct++;
  }
  return { loss: loss / y.length, accuracy: correct / y.length };
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

function checkData(name: string, data: LabeledFeatures, model: CnnTmConfig): void {
  const clipSize = model.nMels * model.frames;
  const count = data.y.length;
  if (count === 0) throw new SerError('EDATA', 'train', `the ${name} set is empty`);
  if (data.x.length !== count * clipSize) {
    throw new SerError(
      'ESHAPE',
      'train',
      `${name} features hold ${data.x.length} values; ${count} clips of ${model.nMels} mels x ${model.frames} frames need ${count * clipSize}`,
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
  const { model, seed, runDir } = options;
  const hyper: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, ...options.hyper };
  checkHyper(hyper);
  checkData('training', options.train, model);
  checkData('validation', options.val, model);
  const trainCount = options.train.y.length;
  if (trainCount < hyper.batchSize) {
    throw new SerError(
      'EDATA',
      'train',
      `${trainCount} training clips are fewer than one batch of ${hyper.batchSize}; lower --batch-size or add data`,
    );
  }
  if (options.resume && !runDir) throw new SerError('EARG', 'train', 'resume needs the run directory (runDir) holding the checkpoint');

  const stopper = new EarlyStopping(hyper.patience);
  let history: EpochRecord[] = [];
  let startEpoch = 1;
  let best: TrainerState | null = null;
  let finished: LoopState['finished'] = null;

  // Read (or refuse) the checkpoint before building the trainer: errors come before any expensive work.
  let checkpoint: { state: TrainerState; loop: LoopState } | null = null;
  if (options.resume && runDir) {
    checkpoint = loadCheckpoint(runDir);
    stopper.loadState(checkpoint.loop.earlyStopping);
    history = checkpoint.loop.history;
    startEpoch = checkpoint.loop.epoch + 1;
    finished = checkpoint.loop.finished;
    // A run that used up a smaller epoch budget continues when resumed with a larger one.
    if (finished === 'max-epochs' && hyper.epochs > checkpoint.loop.epoch) finished = null;
    best = bestForResume(runDir, checkpoint.loop);
  } else if (runDir && hasCheckpoint(runDir)) {
    throw new SerError('EARG', 'train', `${runDir} already holds a checkpoint; resume it or choose another run directory`);
  }

  const trainer = await CnnTmTrainer.create(model, {
    batchSize: hyper.batchSize,
    lr: hyper.lr,
    betas: hyper.betas,
    eps: hyper.eps,
    weightDecay: hyper.weightDecay,
    seed,
    threads: options.threads,
  });
  try {
    if (checkpoint) trainer.loadState(checkpoint.state);

    const batchesPerEpoch = Math.floor(trainCount / hyper.batchSize);
    const clipSize = model.nMels * model.frames;
    const progress: ProgressReporter = createProgress(options.progress ?? 'auto', hyper.epochs);
    progress.start(hyper.epochs * batchesPerEpoch, (startEpoch - 1) * batchesPerEpoch);
    const batchX = new Float32Array(hyper.batchSize * clipSize);
    const batchY = new Int32Array(hyper.batchSize);
    let interrupted = false;
    try {
      for (let epoch = startEpoch; epoch <= hyper.epochs && finished === null; epoch++) {
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        const started = performance.now();
        trainer.newEpoch(epoch);
        const order = epochOrder(trainCount, seed, epoch);
        let lossSum = 0;
        for (let b = 0; b < batchesPerEpoch; b++) {
          for (let i = 0; i < hyper.batchSize; i++) {
            const clip = order[b * hyper.batchSize + i]!;
            batchX.set(options.train.x.subarray(clip * clipSize, (clip + 1) * clipSize), i * clipSize);
            batchY[i] = options.train.y[clip]!;
          }
          // A non-finite loss is an ERUNTIME error from the trainer, raised before the weights are updated.
          const { loss } = await trainer.trainStep(batchX, batchY);
          lossSum += loss;
          progress.step(epoch, loss);
          if (options.signal?.aborted) {
            interrupted = true;
            break;
          }
        }
        if (interrupted) break;
        if (hyper.recalibrateBn) await trainer.recalibrateBatchNorm(options.train.x, trainCount, order);

        const trainLogits = await predictLogits(trainer, options.train.x, trainCount, hyper.batchSize, model.nClasses);
        const valLogits = await predictLogits(trainer, options.val.x, options.val.y.length, hyper.batchSize, model.nClasses);
        const trainMetrics = lossAndAccuracy(trainLogits, options.train.y, model.nClasses);
        const valMetrics = lossAndAccuracy(valLogits, options.val.y, model.nClasses);
        const record: EpochRecord = {
          epoch,
          train_loss: lossSum / batchesPerEpoch,
          train_accuracy: trainMetrics.accuracy,
          val_loss: valMetrics.loss,
          val_accuracy: valMetrics.accuracy,
          lr: hyper.lr,
          seconds: (performance.now() - started) / 1000,
        };
        history.push(record);
        const decision = stopper.update(epoch, record.val_loss);
        if (decision.improved) {
          best = copyState(trainer.state());
          if (runDir) saveBest(runDir, best, epoch, record.val_loss);
        }
        finished = decision.stop ? 'stopped' : epoch === hyper.epochs ? 'max-epochs' : null;
        if (runDir) {
          saveCheckpoint(runDir, trainer.state(), {
            epoch,
            earlyStopping: stopper.state(),
            shuffle: { algorithm: 'mulberry32(epochSeed(seed, epoch)) + Fisher-Yates', seed },
            finished,
            history,
          });
        }
        progress.epochEnd(record, stopper.state().bestEpoch);
        options.onEpoch?.(record);
        if (decision.stop) {
          progress.log(
            `early stopping: no validation-loss improvement for ${hyper.patience} epochs; best epoch ${stopper.state().bestEpoch}`,
          );
        }
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
      }
    } finally {
      progress.stop();
    }
    // `finished` is still null only when resumed with a budget below the checkpoint's epoch: count that as the budget.
    const state = stopper.state();
    if (!interrupted && best) trainer.loadState(best);
    return {
      trainer,
      history,
      bestEpoch: state.bestEpoch,
      bestValLoss: state.bestLoss,
      finished: interrupted ? 'interrupted' : (finished ?? 'max-epochs'),
      hyper,
    };
  } catch (error) {
    await trainer.release();
    throw error;
  }
}
