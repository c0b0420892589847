/**
 * `config.json` of a run directory: everything needed to repeat the run (data, split protocol, seed,
 * hyper-parameters) and to use its model (model config, front end, clip duration, class names). Written once
 * when a run starts (run-dir.ts reads and writes it); `--resume`, `ser eval` and `ser predict` read it. Nothing here
 * uses the file system, so src/web checks a fetched config.json with it.
 *
 * A run directory holds:
 *   config.json            this file
 *   split.json             which utterance ids are train / val / test (written by src/data)
 *   checkpoint.safetensors trainer state + loop state after the last completed epoch (checkpoint.ts)
 *   best.safetensors       trainer state of the best epoch
 *   history.jsonl          one line of metrics per epoch
 *   metrics.json           test-set evaluation of the best model (at the end)
 *   report.html, *.svg     the readable report and its figures
 *   model.onnx             the deployable model: input 'mel' [batch, 1, nMels, frames] -> 'logits', 'probabilities'
 *                          (a symbolic batch axis; older runs' model.onnx has a batch of 1 and still loads)
 */
import type { CorpusName } from '../data/corpus.js';
import type { CorpusSource } from '../data/mixture.js';
import type { HeldOut, SplitProtocol } from '../data/splits.js';
import { SerError } from '../errors.js';
import type { FrontEndConfig } from '../features/config.js';
import type { CnnTmConfig } from '../model/config.js';
import type { Hyperparameters } from './loop.js';
import type { Recipe } from './recipe.js';

export interface RunConfig {
  format: 'speech-emotion run';
  version: 1;
  model: CnnTmConfig;
  frontEnd: FrontEndConfig;
  /** Every clip is cropped or zero-padded to this many seconds before the front end (fixLength). */
  durationS: number;
  /** Class names; output i of the model is `labels[i]`. */
  labels: string[];
  hyper: Hyperparameters;
  seed: number;
  /** ORT threads used for training (results can differ in the last bits across thread counts). */
  threads: number | null;
  data: {
    /** The corpus kind, or 'mixture' for several corpora (listed in `corpora`). */
    dataset: CorpusName | 'mixture';
    /** Absolute path of the corpus folder or manifest ('' for a mixture). */
    path: string;
    /** The --labels spec (a mixture's label space), or null for the default. */
    labelSpec: string | null;
    /** True for the small corpus shipped in assets/corpus. */
    embedded: boolean;
    /** A mixture's corpora: tag (the `source` of its utterances), kind, absolute path, own label spec. */
    corpora?: Array<{ tag: string; dataset: CorpusName; path: string; labels: string | null }>;
  };
  /**
   * The split's protocol and part sizes; `seed` when it was not the run's `seed` (--split-seed; split.json has it
   * too); `file` when the split was given (--split-file), not made.
   */
  split: { protocol: SplitProtocol; train: number; val: number; test: number; heldOut?: HeldOut; seed?: number; file?: string };
  /**
   * How utterances become inputs and how training augments them (recipe.ts). Absent in runs made before recipes:
   * those train and predict on the first `durationS` seconds of each file (clipLogMel).
   */
  recipe?: Recipe;
  /** A fine-tuning run (fine-tune.ts): the run directory whose model it started from, and that model's classes. */
  init?: { model: string; labels: string[] };
  /** An ensemble (ensemble.ts, `ser ensemble`): the run folders whose models its model.onnx averages. */
  ensemble?: { members: string[] };
}

export const CONFIG_FILE = 'config.json';
export const SPLIT_FILE = 'split.json';
export const METRICS_FILE = 'metrics.json';
export const MODEL_FILE = 'model.onnx';
/** The HTML report of a finished run (src/eval writeHtmlReport), with its figures in figures/. */
export const REPORT_FILE = 'report.html';
/** Clips per model run when one clip is classified at a time (src/web). */
export const MODEL_BATCH = 1;

/** Checks a parsed config.json; `source` names it in errors. */
export function checkRunConfig(config: unknown, source: string): RunConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new SerError('EFORMAT', 'run', `${source}: not a speech-emotion run config (a JSON object expected)`);
  }
  const run = config as Partial<RunConfig>;
  const missing = (['model', 'frontEnd', 'durationS', 'labels', 'hyper', 'seed', 'data', 'split'] as const).filter(
    (key) => run[key] === undefined,
  );
  if (run.format !== 'speech-emotion run' || missing.length > 0) {
    throw new SerError(
      'EFORMAT',
      'run',
      `${source}: not a speech-emotion run config` + (missing.length ? ` (missing ${missing.join(', ')})` : ''),
    );
  }
  return run as RunConfig;
}

/** The corpora of a run's config.json, as loadCorpora takes them. */
export function configSources(config: RunConfig): CorpusSource[] {
  if (config.data.corpora) {
    return config.data.corpora.map((c) => ({ dataset: c.dataset, path: c.path, ...(c.labels !== null ? { labels: c.labels } : {}) }));
  }
  if (config.data.dataset === 'mixture') throw new SerError('EFORMAT', 'run', 'config.json: a mixture without its corpora');
  return [
    { dataset: config.data.dataset, path: config.data.path, ...(config.data.labelSpec !== null ? { labels: config.data.labelSpec } : {}) },
  ];
}

/** The label space to read configSources with (loadCorpora's `labels`): a mixture's, else the corpus's own spec. */
export function configLabelSpace(config: RunConfig): string | undefined {
  return config.data.dataset === 'mixture' ? (config.data.labelSpec ?? undefined) : undefined;
}
