/**
 * One training run end to end, as `ser train` does it: read the corpus, compute (or reuse cached) log-mel
 * features, split (seeded, saved to split.json), train with checkpoints, then evaluate the best model on the
 * test part and write metrics.json, report.html with its figures, and model.onnx (the deployable model).
 * With `resume`, every setting comes from the run directory's config.json and split.json instead.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CorpusName, type Utterance, loadCorpus } from '../data/corpus.js';
import { extractFeatures, summarizeFailures } from '../data/index.js';
import { type PartName, type Split, type SplitParts, applySplit, loadSplit, makeSplit, saveSplit } from '../data/splits.js';
import { SerError } from '../errors.js';
import { type EvaluationReport, type SpectrogramExample, evaluate, formatReport, toJson, writeHtmlReport } from '../eval/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { type Hyperparameters, type LabeledFeatures, type TrainResult, DEFAULT_HYPERPARAMETERS, predictLogits, train } from './loop.js';
import { EMBEDDED_CORPUS, EMBEDDED_DEFAULTS, type ModelSize, modelFor } from './presets.js';
import type { ProgressMode } from './progress.js';
import {
  CONFIG_FILE,
  METRICS_FILE,
  MODEL_FILE,
  type RunConfig,
  SPLIT_FILE,
  readRunConfig,
  writeRunConfig,
} from './run-config.js';

export interface TrainRunOptions {
  /** Run directory (created). */
  out: string;
  /** The corpus; omitted: the embedded corpus. */
  data?: { dataset: CorpusName; path: string; labels?: string };
  /** 'random' (stratified) or 'speaker' (speaker-disjoint); default 'random'. */
  split?: string;
  /** Seed of the split, the initial weights, the shuffling and dropout (default 0). */
  seed?: number;
  hyper?: Partial<Hyperparameters>;
  /** Default 'paper' ('small' for the embedded corpus). */
  size?: ModelSize;
  /** Dropout of the CNN blocks and encoder layers (default 0.4; embedded corpus: 0.1). */
  dropout?: number;
  /** Clip length in seconds (default 3, the paper's). */
  durationS?: number;
  /** Feature cache folder; null: features are computed in memory only (default: src/data's default). */
  cacheDir?: string | null;
  threads?: number;
  /** Continue the run in `out`; settings come from its config.json (only `hyper.epochs` may change). */
  resume?: boolean;
  signal?: AbortSignal;
  progress?: ProgressMode;
  /** Status lines (default: stderr). */
  log?: (line: string) => void;
}

export interface TrainRunResult {
  runDir: string;
  config: RunConfig;
  finished: TrainResult['finished'];
  bestEpoch: number;
  history: TrainResult['history'];
  /** Test-set evaluation of the best model; null when interrupted. */
  report: EvaluationReport | null;
}

/** Softmax of each row of logits [count, nClasses], in float64 then rounded to float32. */
export function softmaxRows(logits: Float32Array, nClasses: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let start = 0; start < logits.length; start += nClasses) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < nClasses; c++) max = Math.max(max, logits[start + c]!);
    let sum = 0;
    for (let c = 0; c < nClasses; c++) sum += Math.exp(logits[start + c]! - max);
    for (let c = 0; c < nClasses; c++) out[start + c] = Math.exp(logits[start + c]! - max) / sum;
  }
  return out;
}

/** Features of `utterances` (a subset of the extracted ones, found by id) with class indices into `labels`. */
function gather(
  utterances: readonly Utterance[],
  rowOf: Map<string, number>,
  features: Float32Array,
  clipSize: number,
  labels: readonly string[],
): LabeledFeatures {
  const x = new Float32Array(utterances.length * clipSize);
  const y = new Int32Array(utterances.length);
  utterances.forEach((u, i) => {
    const row = rowOf.get(u.id)!;
    x.set(features.subarray(row * clipSize, (row + 1) * clipSize), i * clipSize);
    y[i] = labels.indexOf(u.label);
  });
  return { x, y };
}

/** Model, front end and clip length of a new run: the size preset, with the options' dropout. */
function newSetup(options: TrainRunOptions, nClasses: number): Pick<RunConfig, 'model' | 'frontEnd' | 'durationS'> {
  const embedded = options.data === undefined;
  const size = options.size ?? (embedded ? EMBEDDED_DEFAULTS.size : 'paper');
  const durationS = options.durationS ?? 3;
  const { model, frontEnd } = modelFor(size, nClasses, durationS);
  const dropout = options.dropout ?? (embedded ? EMBEDDED_DEFAULTS.dropout : model.dropout);
  return { model: { ...model, dropout }, frontEnd, durationS };
}

function newRunConfig(
  options: TrainRunOptions,
  setup: Pick<RunConfig, 'model' | 'frontEnd' | 'durationS'>,
  labels: string[],
  split: Split,
  dataPath: string,
): RunConfig {
  const embedded = options.data === undefined;
  const base = embedded ? { ...DEFAULT_HYPERPARAMETERS, ...EMBEDDED_DEFAULTS } : DEFAULT_HYPERPARAMETERS;
  const hyper: Hyperparameters = {
    epochs: options.hyper?.epochs ?? base.epochs,
    patience: options.hyper?.patience ?? base.patience,
    batchSize: options.hyper?.batchSize ?? base.batchSize,
    lr: options.hyper?.lr ?? base.lr,
    betas: options.hyper?.betas ?? base.betas,
    eps: options.hyper?.eps ?? base.eps,
    weightDecay: options.hyper?.weightDecay ?? base.weightDecay,
    recalibrateBn: options.hyper?.recalibrateBn ?? base.recalibrateBn,
  };
  return {
    format: 'speech-emotion run',
    version: 1,
    ...setup,
    labels,
    hyper,
    seed: options.seed ?? 0,
    threads: options.threads ?? null,
    data: { dataset: options.data?.dataset ?? EMBEDDED_CORPUS.dataset, path: dataPath, labelSpec: options.data?.labels ?? null, embedded },
    split: { protocol: split.protocol, train: split.parts.train.length, val: split.parts.validation.length, test: split.parts.test.length },
  };
}

/** Everything a run trains and is tested on, after the corpus, features and split are settled. */
interface PreparedRun {
  runDir: string;
  config: RunConfig;
  split: Split;
  parts: SplitParts;
  sets: Record<PartName, LabeledFeatures>;
}

/** Trains (or resumes) a run; see the file comment. */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  const prepared = await prepareRun(options, log);
  const { runDir, config, split, parts, sets } = prepared;
  const { model } = config;
  const hyper = config.hyper;
  log(
    `split ${split.protocol} (seed ${config.seed}): train ${parts.train.length}, validation ${parts.validation.length}, test ${parts.test.length}; ` +
      `model ${model.nMels} mels x ${model.frames} frames, d_model ${model.dModel}, ${model.layers} layers, dropout ${model.dropout}; ` +
      `batch ${hyper.batchSize}, lr ${hyper.lr}, up to ${hyper.epochs} epochs, patience ${hyper.patience}` +
      (hyper.recalibrateBn ? '; BN statistics re-estimated each epoch' : '; BN statistics from the training steps (--no-recalibrate-bn)'),
  );
  const result = await train({
    model,
    train: sets.train,
    val: sets.validation,
    seed: config.seed,
    hyper,
    threads: options.threads ?? config.threads ?? undefined,
    runDir,
    // Interrupted before the first epoch ended: no checkpoint yet, so start from the saved settings.
    resume: options.resume === true && existsSync(join(runDir, CHECKPOINT_FILE)),
    signal: options.signal,
    progress: options.progress,
  });
  try {
    const summary = { runDir, config, finished: result.finished, bestEpoch: result.bestEpoch, history: result.history };
    if (result.finished === 'interrupted') return { ...summary, report: null };
    log(
      `${result.finished === 'stopped' ? 'early stopping' : 'epoch budget used'} after ${result.history.length} epochs; ` +
        `best epoch ${result.bestEpoch} (val_loss ${result.bestValLoss.toFixed(4)}) restored`,
    );
    return { ...summary, report: await finishRun(prepared, result) };
  } finally {
    await result.trainer.release();
  }
}

/**
 * A new run: the corpus, its features, a new seeded split and config.json. A resumed run: config.json and
 * split.json of the run directory, the corpus and features again (from the cache), and a new epoch budget if given.
 */
async function prepareRun(options: TrainRunOptions, log: (line: string) => void): Promise<PreparedRun> {
  const runDir = resolve(options.out);
  let config: RunConfig | null = null;
  if (options.resume) {
    config = readRunConfig(runDir);
    // Run directories from before the option trained without BN re-estimation: resume them the same way.
    if (config.hyper.recalibrateBn === undefined) config = { ...config, hyper: { ...config.hyper, recalibrateBn: false } };
  } else if (existsSync(join(runDir, CONFIG_FILE))) {
    throw new SerError('EARG', 'train', `${runDir} already holds a run; continue it with --resume, or choose another --out`);
  }

  const data: { dataset: CorpusName; path: string; labels?: string } = config
    ? { dataset: config.data.dataset, path: config.data.path, labels: config.data.labelSpec ?? undefined }
    : (options.data ?? EMBEDDED_CORPUS);
  const dataPath = resolve(data.path);
  const embedded = config ? config.data.embedded : options.data === undefined;
  log(`${options.resume ? 'resuming' : 'training'}: ${embedded ? 'embedded corpus' : data.dataset} at ${dataPath}`);
  const corpus = loadCorpus({ dataset: data.dataset, path: dataPath, labels: data.labels });
  log(
    `corpus: ${corpus.utterances.length} utterances, ${corpus.labels.length} classes (${corpus.labels.join(', ')})` +
      (corpus.ignored.length ? `; ${corpus.ignored.length} files ignored` : ''),
  );
  if (config && config.labels.join(',') !== corpus.labels.join(',')) {
    throw new SerError(
      'EDATA',
      'train',
      `${dataPath}: classes are now ${corpus.labels.join(', ')} but the run was trained on ${config.labels.join(', ')}`,
    );
  }

  // Model and front end: from the run's config on resume, else from the options (the class count is the corpus's).
  const setup = config ?? newSetup(options, corpus.labels.length);
  const started = performance.now();
  const extracted = await extractFeatures(corpus.utterances, {
    frontEnd: setup.frontEnd,
    durationS: setup.durationS,
    cacheDir: options.cacheDir,
  });
  log(
    `features: ${extracted.nMels} mels x ${extracted.frames} frames; ${extracted.cacheHits} from the cache, ${extracted.computed} computed ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (extracted.failed.length > 0) log(summarizeFailures(extracted, 10));

  let split: Split;
  const splitPath = join(runDir, SPLIT_FILE);
  if (config) {
    split = loadSplit(splitPath);
    const epochs = options.hyper?.epochs;
    if (epochs !== undefined && epochs !== config.hyper.epochs) {
      config = { ...config, hyper: { ...config.hyper, epochs } };
      writeRunConfig(runDir, config);
    }
  } else {
    split = makeSplit(options.split ?? 'random', extracted.kept, { seed: options.seed ?? 0, labels: corpus.labels });
    mkdirSync(runDir, { recursive: true });
    saveSplit(splitPath, split);
    config = newRunConfig(options, setup, corpus.labels, split, dataPath);
    writeRunConfig(runDir, config);
  }
  // On resume, a file that failed to decode when the split was made is in no part: leave it out again.
  const inSplit = new Set([...split.parts.train, ...split.parts.validation, ...split.parts.test]);
  const parts = applySplit(
    split,
    extracted.kept.filter((u) => inSplit.has(u.id)),
  );
  const rowOf = new Map(extracted.kept.map((u, i) => [u.id, i]));
  const clipSize = setup.model.nMels * setup.model.frames;
  const gatherPart = (part: PartName) => gather(parts[part], rowOf, extracted.features, clipSize, corpus.labels);
  return {
    runDir,
    config,
    split,
    parts,
    sets: { train: gatherPart('train'), validation: gatherPart('validation'), test: gatherPart('test') },
  };
}

/** Evaluates the trained (best) model on the test part; writes metrics.json, model.onnx and the report. */
async function finishRun(prepared: PreparedRun, result: TrainResult): Promise<EvaluationReport> {
  const { runDir, config, split, parts, sets } = prepared;
  const { model, labels, hyper } = config;
  const logits = await predictLogits(result.trainer, sets.test.x, sets.test.y.length, hyper.batchSize, model.nClasses);
  const probabilities = softmaxRows(logits, model.nClasses);
  const report = evaluate(sets.test.y, null, labels, { probabilities });
  const metrics = {
    ...toJson(report),
    part: 'test',
    protocol: split.protocol,
    dataset: config.data.dataset,
    data_path: config.data.path,
    seed: config.seed,
    best_epoch: result.bestEpoch,
    // BN statistics re-estimated with dropout off after each epoch (loop.ts); false: the training steps' own.
    recalibrate_bn: hyper.recalibrateBn,
    epochs_run: result.history.length,
    finished: result.finished,
    // Training wall time summed over epochs (across resumed sessions) and this process's peak resident memory.
    train_seconds: result.history.reduce((sum, record) => sum + record.seconds, 0),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  writeFileAtomic(join(runDir, METRICS_FILE), JSON.stringify(metrics, null, 2) + '\n');
  writeFileAtomic(join(runDir, MODEL_FILE), result.trainer.exportOnnx('dynamic'));
  const corpusName = config.data.embedded ? 'the embedded corpus' : config.data.dataset;
  await writeHtmlReport(runDir, {
    run: {
      dataset: `${corpusName} (${config.data.path})`,
      protocol: split.protocol,
      seed: config.seed,
      splitCounts: { train: parts.train.length, validation: parts.validation.length, test: parts.test.length },
      config: {
        ...model,
        ...Object.fromEntries(Object.entries(config.frontEnd).map(([key, value]) => [`frontEnd.${key}`, value])),
        durationS: config.durationS,
      },
      hyperParameters: { ...hyper },
      epochs: result.history.length,
      bestEpoch: result.bestEpoch,
      wallTimeS: result.history.reduce((sum, record) => sum + record.seconds, 0),
      evaluatedOn: `test split (${parts.test.length} clips), best epoch ${result.bestEpoch}`,
      title: `CNN-TM on ${corpusName}, ${split.protocol} split, seed ${config.seed}`,
    },
    history: result.history,
    report,
    spectrograms: exampleSpectrograms(parts.test, sets.test, probabilities, labels, model),
  });
  return report;
}

/** The first test clip of each class as a report figure, captioned with the model's prediction. */
function exampleSpectrograms(
  utterances: readonly Utterance[],
  set: LabeledFeatures,
  probabilities: Float32Array,
  labels: readonly string[],
  model: { nMels: number; frames: number; nClasses: number },
): SpectrogramExample[] {
  const clipSize = model.nMels * model.frames;
  const examples: SpectrogramExample[] = [];
  labels.forEach((label, c) => {
    const i = set.y.indexOf(c);
    if (i < 0) return;
    const row = probabilities.subarray(i * model.nClasses, (i + 1) * model.nClasses);
    const predicted = row.indexOf(Math.max(...row));
    examples.push({
      title: `${label}: ${utterances[i]!.id}`,
      spectrogram: { data: set.x.slice(i * clipSize, (i + 1) * clipSize), nMels: model.nMels, frames: model.frames },
      caption: `predicted ${labels[predicted]} (${(100 * row[predicted]!).toFixed(1)}%)`,
    });
  });
  return examples;
}

/** The terminal summary printed at the end of `ser train`. */
export function formatRunSummary(result: TrainRunResult, color = false): string {
  if (!result.report) return '';
  const title = `Test set (${result.config.split.protocol} split, ${result.report.samples} clips), best epoch ${result.bestEpoch}`;
  return formatReport(result.report, { color, title });
}
