/**
 * The files of a run directory that the training loop owns, all written atomically (temp file + rename), so an
 * interruption at any moment leaves the previous complete version:
 *
 * - `checkpoint.safetensors`: the trainer's whole state (parameters, BatchNorm running statistics, AdamW first and
 *   second moments, step count, and with `emaDecay` the weight average under `ema/`) after the last completed
 *   epoch; its metadata `loop` holds the loop state
 *   (`LoopState`: epoch, early-stopping best and patience counter, shuffle generator, history).
 * - `best.safetensors`: the evaluated state (the weight average with `emaDecay`) of the best epoch (lowest
 *   validation loss, or best validation UAR with `--monitor val_uar`; metadata `epoch`, `val_loss`).
 * - `history.jsonl`: one JSON object per completed epoch (`EpochRecord`), rewritten with the checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerError } from '../errors.js';
import type { EpochRecord } from '../eval/figures.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import type { NamedTensor, TensorData } from '../io/safetensors.js';
import type { EarlyStoppingState } from './early-stopping.js';

/** One definition, beside the figures that draw it. */
export type { EpochRecord };

export interface LoopState {
  /** Last completed epoch (1-based). */
  epoch: number;
  earlyStopping: EarlyStoppingState;
  /** How the order of each epoch is drawn; see shuffle.ts. */
  shuffle: { algorithm: string; seed: number };
  /** 'stopped': early stopping fired; 'max-epochs': the epoch budget was used; null: more epochs to run. */
  finished: 'stopped' | 'max-epochs' | null;
  history: EpochRecord[];
}

export type TrainerState = Map<string, NamedTensor>;

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const BEST_FILE = 'best.safetensors';
export const HISTORY_FILE = 'history.jsonl';

/** A deep copy: trainer state maps may share buffers with the live trainer. */
export function copyState(state: TrainerState): TrainerState {
  const copy: TrainerState = new Map();
  for (const [name, tensor] of state) copy.set(name, { data: tensor.data.slice() as TensorData, shape: [...tensor.shape] });
  return copy;
}

// JSON has no Infinity: the best loss before the first epoch is written as null.
function encodeLoop(loop: LoopState): string {
  return JSON.stringify(loop, (_key, value) => (value === Number.POSITIVE_INFINITY ? null : value));
}

function decodeLoop(text: string, path: string): LoopState {
  let loop: LoopState;
  try {
    loop = JSON.parse(text) as LoopState;
  } catch (error) {
    throw new SerError('EFORMAT', 'train', `${path}: loop state is not valid JSON (${(error as Error).message})`);
  }
  if (!Number.isInteger(loop.epoch) || !loop.earlyStopping || !Array.isArray(loop.history)) {
    throw new SerError('EFORMAT', 'train', `${path}: loop state lacks epoch, earlyStopping or history (not a speech-emotion checkpoint?)`);
  }
  loop.earlyStopping.bestLoss ??= Number.POSITIVE_INFINITY;
  return loop;
}

export function historyJsonl(history: readonly EpochRecord[]): string {
  return history.map((record) => JSON.stringify(record) + '\n').join('');
}

/** A run's history.jsonl (one EpochRecord per line); [] when the run has none. EFORMAT naming the line that is not JSON. */
export function readHistory(runDir: string): EpochRecord[] {
  const path = join(runDir, HISTORY_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as EpochRecord;
      } catch {
        throw new SerError('EFORMAT', 'train', `${path}: line ${i + 1} is not JSON`);
      }
    });
}

/** Saves the checkpoint after a completed epoch: history.jsonl first, then checkpoint.safetensors (the commit point). */
export function saveCheckpoint(runDir: string, state: TrainerState, loop: LoopState): void {
  writeFileAtomic(join(runDir, HISTORY_FILE), historyJsonl(loop.history));
  writeSafetensors(join(runDir, CHECKPOINT_FILE), state, { format: 'speech-emotion checkpoint', loop: encodeLoop(loop) });
}

export function saveBest(runDir: string, state: TrainerState, epoch: number, valLoss: number): void {
  writeSafetensors(join(runDir, BEST_FILE), state, {
    format: 'speech-emotion best model',
    epoch: String(epoch),
    val_loss: String(valLoss),
  });
}

export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(runDir, CHECKPOINT_FILE));
}

export function loadCheckpoint(runDir: string): { state: TrainerState; loop: LoopState } {
  const path = join(runDir, CHECKPOINT_FILE);
  if (!existsSync(path)) {
    throw new SerError('EIO', 'train', `${runDir}: no ${CHECKPOINT_FILE} to resume from (was a training started with --out ${runDir}?)`);
  }
  const file = readSafetensors(path);
  const text = file.metadata.loop;
  if (text === undefined) throw new SerError('EFORMAT', 'train', `${path}: no 'loop' metadata (not a speech-emotion checkpoint)`);
  return { state: file.tensors, loop: decodeLoop(text, path) };
}

/** The best model's trainer state, or null when no epoch has completed yet. */
export function loadBest(runDir: string): { state: TrainerState; epoch: number } | null {
  const path = join(runDir, BEST_FILE);
  if (!existsSync(path)) return null;
  const file = readSafetensors(path);
  return { state: file.tensors, epoch: Number(file.metadata.epoch) };
}
