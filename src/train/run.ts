/**
 * One training run end to end, as `ser train` does it: read the corpus or corpora, compute (or reuse cached)
 * whole-utterance log-mels, split (seeded, saved to split.json), train with the recipe's inputs and augmentation
 * and checkpoints, then evaluate the best model on the test part (per corpus too) and write metrics.json,
 * report.html with its figures, and model.onnx (the deployable model).
 * With `resume`, every setting comes from the run directory's config.json and split.json instead.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { ASSESS_DEFAULTS } from '../audio/vad.js';
import { join, resolve } from 'node:path';
import type { Utterance } from '../data/corpus.js';
import { extractUtteranceLogMels, summarizeFailures } from '../data/index.js';
import { type CorpusSource, loadCorpora, sourceTags } from '../data/mixture.js';
import {
  type HeldOut,
  type PartName,
  type Split,
  type SplitParts,
  PART_NAMES,
  applySplit,
  adoptSplit,
  loadSplit,
  makeSplit,
  saveSplit,
} from '../data/splits.js';
import { SerError } from '../errors.js';
import { averageWindowProbabilities, softmaxRows } from '../eval/probabilities.js';
import { type CalibratedPart, calibratedPart, calibrationJson, fittedTemperature, temperedProbabilities } from '../eval/calibration.js';
import { PREDICTIONS_FILE, predictionsCsv } from '../eval/predictions.js';
import {
  type EvaluationReport,
  type SpectrogramAxes,
  type SpectrogramExample,
  evaluate,
  formatReport,
  toJson,
  writeHtmlReport,
} from '../eval/index.js';
import type { Spectrogram } from '../features/index.js';
import { sweepStaleTempFiles, writeError, writeFileAtomic } from '../io/atomic.js';
import { acquireRunLock } from '../io/run-lock.js';
import { CHECKPOINT_FILE, type EpochRecord } from './checkpoint.js';
import {
  type FineTuneStart,
  type InitialModel,
  LICENSE_FILE,
  carryLicense,
  fineTuneSetup,
  fineTuneWeights,
  readInitialModel,
} from './fine-tune.js';
import { type PartUtterances, evaluationSet, trainingSource } from './input-sets.js';
import {
  type EvaluationFeatures,
  type Hyperparameters,
  type TrainResult,
  type TrainingSource,
  DEFAULT_HYPERPARAMETERS,
  predictLogits,
  train,
} from './loop.js';
import { EMBEDDED_CORPUS, EMBEDDED_DEFAULTS, type ModelSize, modelFor } from './presets.js';
import { type ProgressMode, createCountProgress } from './progress.js';
import { PAPER_RECIPE, type Recipe, checkRecipe } from './recipe.js';
import { CONFIG_FILE, METRICS_FILE, MODEL_FILE, type RunConfig, SPLIT_FILE, configLabelSpace, configSources } from './run-config.js';
import { readRunConfig, writeRunConfig } from './run-dir.js';
import { perCorpusReports } from './per-corpus.js';
import { rebuildModelOnnx } from '../model/ensemble.js';

export interface TrainRunOptions {
  /** Run directory (created). */
  out: string;
  /** The corpus, or several (a mixture, see src/data/mixture.ts); omitted: the embedded corpus. */
  data?: CorpusSource | CorpusSource[];
  /** The label space of several corpora ('six', or a comma list; default 'six'). One corpus: its `labels` spec. */
  labels?: string;
  /** 'random' (stratified), 'speaker' (speaker-disjoint) or 'corpus' (leave-one-corpus-out); default 'random'. */
  split?: string;
  /** A test part fixed in advance: a corpus (with split 'corpus') or speakers (with split 'speaker'). */
  heldOut?: HeldOut;
  /**
   * A split given in advance (ser-split/1 JSON: another run's split.json, or a published split) instead of a new
   * one; `split`, `heldOut`, `splitSeed` and `validationFraction` are then not used. See splits.ts adoptSplit.
   */
  splitFile?: string;
  /** Seed of the split, the initial weights, the shuffling, augmentation and dropout (default 0). */
  seed?: number;
  /**
   * Seed of the split alone (default: `seed`): runs with different `seed` and the same `splitSeed` share their
   * train, validation and test parts, for seed-to-seed variance or an ensemble (`ser ensemble`) under a random split.
   */
  splitSeed?: number;
  /**
   * Share of the recordings outside the test part held out for validation (default 0.1; whole speakers under the
   * speaker-disjoint protocols); 0: no validation part, every epoch of the budget is trained and the last kept.
   */
  validationFraction?: number;
  hyper?: Partial<Hyperparameters>;
  /** Default 'paper' ('small' for the embedded corpus). */
  size?: ModelSize;
  /** Dropout of the CNN blocks and encoder layers (default 0.4; embedded corpus: 0.1). */
  dropout?: number;
  /** Clip length in seconds (default 3, the paper's). */
  durationS?: number;
  /** Inputs, augmentation and balancing (recipe.ts); default the paper's pipeline. */
  recipe?: Recipe;
  /** Feature cache folder; null: features are computed in memory only (default: src/data's default). */
  cacheDir?: string | null;
  threads?: number;
  /** Feature worker threads for the files not in the cache (default: src/io/worker-pool.ts defaultJobs()); 0: none. */
  jobs?: number;
  /** Continue the run in `out`; settings come from its config.json (only `hyper.epochs` may change). */
  resume?: boolean;
  /**
   * Fine-tune: start from the weights of this trained run directory (fine-tune.ts); its architecture, front end,
   * clip length and (without `recipe`) recipe are used. `size` and `durationS` are then ignored.
   */
  init?: string;
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
  /** The test set per corpus, when it holds several. */
  perCorpus: Record<string, EvaluationReport>;
}

/** Model, front end and clip length of a new run: the size preset, with the options' dropout and the recipe's normalisation. */
function newSetup(options: TrainRunOptions, nClasses: number, recipe: Recipe): Pick<RunConfig, 'model' | 'frontEnd' | 'durationS'> {
  const embedded = options.data === undefined;
  const size = options.size ?? (embedded ? EMBEDDED_DEFAULTS.size : 'paper');
  const durationS = options.durationS ?? 3;
  const { model, frontEnd } = modelFor(size, nClasses, durationS);
  const dropout = options.dropout ?? (embedded ? EMBEDDED_DEFAULTS.dropout : model.dropout);
  return { model: { ...model, dropout, inputNorm: recipe.inputNorm }, frontEnd, durationS };
}

/** ', val_uar 0.xxxx' of the restored epoch, when its history has it. */
function bestUar(result: { history: readonly EpochRecord[]; bestEpoch: number }): string {
  const uar = result.history.find((record) => record.epoch === result.bestEpoch)?.val_uar;
  return typeof uar === 'number' ? `, val_uar ${uar.toFixed(4)}` : '';
}

function newRunConfig(
  options: TrainRunOptions,
  setup: Pick<RunConfig, 'model' | 'frontEnd' | 'durationS'>,
  sources: readonly CorpusSource[],
  labels: string[],
  split: Split,
  recipe: Recipe,
  initial: InitialModel | null,
): RunConfig {
  const embedded = options.data === undefined;
  const base = embedded ? { ...DEFAULT_HYPERPARAMETERS, ...EMBEDDED_DEFAULTS } : DEFAULT_HYPERPARAMETERS;
  const hyper: Hyperparameters = {
    epochs: options.hyper?.epochs ?? base.epochs,
    patience: options.hyper?.patience ?? base.patience,
    batchSize: options.hyper?.batchSize ?? base.batchSize,
    // Fine-tuning starts at the paper's rate even on the embedded corpus: the small model's 1e-3 would undo the weights.
    lr: options.hyper?.lr ?? (initial ? DEFAULT_HYPERPARAMETERS.lr : base.lr),
    betas: options.hyper?.betas ?? base.betas,
    eps: options.hyper?.eps ?? base.eps,
    weightDecay: options.hyper?.weightDecay ?? base.weightDecay,
    recalibrateBn: options.hyper?.recalibrateBn ?? base.recalibrateBn,
    warmupEpochs: options.hyper?.warmupEpochs ?? 0,
    lrDecay: options.hyper?.lrDecay ?? 'none',
    monitor: options.hyper?.monitor ?? 'val_loss',
    ...(options.hyper?.emaDecay !== undefined ? { emaDecay: options.hyper.emaDecay } : {}),
    ...(options.hyper?.corpusAdversarial !== undefined ? { corpusAdversarial: options.hyper.corpusAdversarial } : {}),
    ...(options.hyper?.adversary !== undefined ? { adversary: options.hyper.adversary } : {}),
    ...(options.hyper?.calibrate ? { calibrate: true } : {}),
  };
  const mixture = sources.length > 1;
  const tags = sourceTags(sources);
  const only = sources[0] as CorpusSource;
  return {
    format: 'speech-emotion run',
    version: 1,
    ...setup,
    labels,
    hyper,
    seed: options.seed ?? 0,
    threads: options.threads ?? null,
    data: {
      dataset: mixture ? 'mixture' : only.dataset,
      path: mixture ? '' : resolve(only.path),
      labelSpec: (mixture ? options.labels : (only.labels ?? options.labels)) ?? null,
      embedded,
      ...(mixture
        ? {
            corpora: sources.map((s, i) => ({
              tag: tags[i] as string,
              dataset: s.dataset,
              path: resolve(s.path),
              labels: s.labels ?? null,
            })),
          }
        : {}),
    },
    split: {
      protocol: split.protocol,
      train: split.parts.train.length,
      val: split.parts.validation.length,
      test: split.parts.test.length,
      ...(split.heldOut ? { heldOut: split.heldOut } : {}),
      ...(split.seed !== (options.seed ?? 0) ? { seed: split.seed } : {}),
      ...(options.splitFile !== undefined ? { file: resolve(options.splitFile) } : {}),
    },
    recipe,
    ...(initial ? { init: { model: initial.dir, labels: initial.config.labels } } : {}),
  };
}

/** Everything a run trains and is tested on, after the corpus, features and split are settled. */
interface PreparedRun {
  runDir: string;
  config: RunConfig & { recipe: Recipe };
  split: Split;
  parts: SplitParts;
  train: TrainingSource;
  validation: EvaluationFeatures;
  test: EvaluationFeatures;
  /** The tags of the corpora, in the order of the config. */
  sources: string[];
  /** Files left out as unusable (no speech, too short). */
  unusable: number;
  /** A new fine-tuning run's starting weights (none when resuming: the checkpoint has them). */
  fineTune: FineTuneStart | null;
}

/**
 * Trains (or resumes) a run; see the file comment. The run folder is locked for the whole run (src/io/run-lock.ts):
 * a second `ser train` on it, with or without --resume, fails with EBUSY; a lock left by a killed process is taken over.
 */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const log = options.log ?? ((line: string) => void process.stderr.write(line + '\n'));
  const runDir = resolve(options.out);
  const created = !options.resume && !existsSync(runDir);
  if (created) {
    try {
      mkdirSync(runDir, { recursive: true });
    } catch (error) {
      throw writeError(runDir, error);
    }
  }
  // Resuming a folder that does not exist: prepareRun says so.
  const lock = existsSync(runDir) ? acquireRunLock(runDir, 'train') : null;
  if (lock?.tookOver) log(`${lock.path}: took over the lock of process ${lock.tookOver.pid} (since ${lock.tookOver.since}), which is gone`);
  // Temp files of writes a crash cut short (writeFileAtomic's *.tmp-PID of processes that are gone).
  const swept = lock ? sweepStaleTempFiles(runDir) : [];
  if (swept.length > 0) log(`removed ${swept.length} temp file(s) left by processes that are gone: ${swept.join(', ')}`);
  try {
    return await trainLocked(options, log);
  } finally {
    lock?.release();
    if (created) removeIfEmpty(runDir);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty: the run's files stay.
  }
}

async function trainLocked(options: TrainRunOptions, log: (line: string) => void): Promise<TrainRunResult> {
  const prepared = await prepareRun(options, log);
  const { runDir, config, split, parts } = prepared;
  const { model, recipe } = config;
  const hyper = config.hyper;
  log(
    `split ${split.protocol} (${config.split.file !== undefined ? `given in ${config.split.file}` : `seed ${split.seed}`}): train ${parts.train.length}, validation ${parts.validation.length}, test ${parts.test.length}; ` +
      `model ${model.nMels} mels x ${model.frames} frames, d_model ${model.dModel}, ${model.layers} layers, dropout ${model.dropout}, input norm ${model.inputNorm ?? 'none'}; ` +
      `batch ${hyper.batchSize}, lr ${hyper.lr}${hyper.lrDecay === 'cosine' ? ' (cosine decay)' : ''}${hyper.warmupEpochs ? `, ${hyper.warmupEpochs} warm-up epochs` : ''}, ` +
      (parts.validation.length === 0
        ? `${hyper.epochs} epochs, no validation part: the last epoch is kept`
        : `up to ${hyper.epochs} epochs, patience ${hyper.patience}${hyper.monitor === 'val_uar' ? ' on validation UAR' : ''}`) +
      (hyper.emaDecay !== undefined ? `; weight average (decay ${hyper.emaDecay}) evaluated and kept` : '') +
      (hyper.corpusAdversarial !== undefined
        ? `; ${hyper.adversary ?? 'corpus'}-adversarial head (gradient reversal up to ${hyper.corpusAdversarial})`
        : '') +
      (hyper.recalibrateBn ? '; BN statistics re-estimated each epoch' : '; BN statistics from the training steps (--no-recalibrate-bn)'),
  );
  log(`recipe: ${describeRecipe(recipe)}`);
  if (config.init) {
    const start = prepared.fineTune;
    log(
      `fine-tuning from ${config.init.model} (classes ${config.init.labels.join(', ')})` +
        (start
          ? `: output rows carried over for ${start.carried.join(', ') || 'no class'}` +
            (start.fresh.length > 0 ? `; new, freshly initialised: ${start.fresh.join(', ')}` : '')
          : ''),
    );
  }
  const result = await train({
    model,
    train: prepared.train,
    val: prepared.validation,
    seed: config.seed,
    hyper,
    threads: options.threads ?? config.threads ?? undefined,
    runDir,
    // Interrupted before the first epoch ended: no checkpoint yet, so start from the saved settings.
    resume: options.resume === true && existsSync(join(runDir, CHECKPOINT_FILE)),
    ...(prepared.fineTune ? { initialWeights: prepared.fineTune.weights } : {}),
    signal: options.signal,
    progress: options.progress,
  });
  try {
    const summary = { runDir, config, finished: result.finished, bestEpoch: result.bestEpoch, history: result.history };
    if (result.finished === 'interrupted') return { ...summary, report: null, perCorpus: {} };
    const average = config.hyper.emaDecay !== undefined ? ' (its weight average)' : '';
    log(
      `${result.finished === 'stopped' ? 'early stopping' : 'epoch budget used'} after ${result.history.length} epochs; ` +
        (parts.validation.length === 0
          ? `the last epoch (${result.bestEpoch}) kept${average}: no validation part`
          : `best epoch ${result.bestEpoch} by ${config.hyper.monitor ?? 'val_loss'} (val_loss ${result.bestValLoss.toFixed(4)}${bestUar(result)}) restored${average}`),
    );
    return { ...summary, ...(await finishRun(prepared, result)) };
  } finally {
    await result.trainer.release();
  }
}

/** One line naming what the recipe does. */
export function describeRecipe(recipe: Recipe): string {
  const { input, augment } = recipe;
  const parts = [
    input.trimDb === null ? 'no trimming' : `silence trimmed at ${input.trimDb} dB`,
    input.fill === 'repeat' ? 'short speech repeated' : 'short clips padded with silence',
    `${input.crops} test-time crop${input.crops > 1 ? 's' : ''}`,
    `input norm ${recipe.inputNorm}`,
    ...(recipe.speakerNorm ? ['speaker-level band normalisation'] : []),
    augment.randomCrop ? 'random crops' : 'fixed crops',
  ];
  if (augment.speed) parts.push(`speed x${augment.speed.min}-${augment.speed.max} (p ${augment.speed.probability})`);
  if (augment.untrimmed) parts.push(`untrimmed windows (p ${augment.untrimmed.probability})`);
  if (augment.vtlp) parts.push(`VTLP x${augment.vtlp.min}-${augment.vtlp.max} (p ${augment.vtlp.probability})`);
  if (augment.noise) parts.push(`noise ${augment.noise.snrDbMin}-${augment.noise.snrDbMax} dB SNR (p ${augment.noise.probability})`);
  if (augment.channel)
    parts.push(
      `channel${augment.channel.brickWall ? ' (brick wall)' : ''} low-pass ${augment.channel.lowPassMinHz}-${augment.channel.lowPassMaxHz} Hz, high-pass <= ${augment.channel.highPassMaxHz} Hz (p ${augment.channel.probability})`,
    );
  if (augment.specAugment) parts.push('SpecAugment');
  if (augment.mixup) parts.push(`mixup alpha ${augment.mixup.alpha} (p ${augment.mixup.probability})`);
  if (augment.labelSmoothing > 0) parts.push(`label smoothing ${augment.labelSmoothing}`);
  parts.push(recipe.balance === 'none' ? 'no balancing' : `${recipe.balance} balanced by ${recipe.balanceBy}`);
  return parts.join(', ');
}

/**
 * A new run: the corpora, their features, a new seeded split and config.json. A resumed run: config.json and
 * split.json of the run directory, the corpora and features again (from the cache), and a new epoch budget if given.
 */
async function prepareRun(options: TrainRunOptions, log: (line: string) => void): Promise<PreparedRun> {
  const runDir = resolve(options.out);
  let config: RunConfig | null = null;
  if (options.resume) {
    config = readRunConfig(runDir);
    if (!config.recipe) {
      throw new SerError(
        'EFORMAT',
        'train',
        `${runDir}: made by an earlier version (config.json has no recipe); it can be evaluated and used, but not resumed`,
      );
    }
  } else if (existsSync(join(runDir, CONFIG_FILE))) {
    throw new SerError('EARG', 'train', `${runDir} already holds a run; continue it with --resume, or choose another --out`);
  }

  const sources: CorpusSource[] = config ? configSources(config) : options.data === undefined ? [EMBEDDED_CORPUS] : [options.data].flat();
  const labels = config ? configLabelSpace(config) : options.labels;
  const embedded = config ? config.data.embedded : options.data === undefined;
  if (embedded && !existsSync(EMBEDDED_CORPUS.path)) {
    throw new SerError(
      'EDATA',
      'train',
      `the embedded demo corpus (${EMBEDDED_CORPUS.path}) is not here: it comes with a clone of the repository, not with the npm ` +
        'package (its RAVDESS clips are licensed for non-commercial use only); pass --data with a corpus of yours',
    );
  }
  log(
    `${options.resume ? 'resuming' : 'training'}: ${embedded ? 'embedded corpus' : sources.map((s) => `${s.dataset} at ${resolve(s.path)}`).join(', ')}`,
  );
  const corpus = loadCorpora(sources, { labels });
  log(
    `corpus: ${corpus.utterances.length} utterances, ${corpus.labels.length} classes (${corpus.labels.join(', ')})` +
      (corpus.sources.length > 1
        ? ` from ${corpus.sources.map((tag) => `${tag} ${corpus.utterances.filter((u) => u.source === tag).length}`).join(', ')}`
        : '') +
      (corpus.ignored.length ? `; ${corpus.ignored.length} files ignored` : ''),
  );
  if (config && config.labels.join(',') !== corpus.labels.join(',')) {
    throw new SerError(
      'EDATA',
      'train',
      `the classes are now ${corpus.labels.join(', ')} but the run was trained on ${config.labels.join(', ')}`,
    );
  }

  // A given split is checked against the corpora before any features are computed (its errors come first too).
  const givenSplit = !config && options.splitFile !== undefined ? loadSplit(options.splitFile) : undefined;
  if (givenSplit) adoptSplit(givenSplit, corpus, corpus.utterances, options.splitFile as string);

  // Fine-tuning: the initial model is read before any features are computed (its errors come first). A resumed
  // run needs it only when it was interrupted before its first checkpoint.
  const initDir = config ? (existsSync(join(runDir, CHECKPOINT_FILE)) ? undefined : config.init?.model) : options.init;
  const initial = initDir !== undefined ? readInitialModel(initDir) : null;
  const recipe = checkRecipe(config?.recipe ?? options.recipe ?? initial?.config.recipe ?? PAPER_RECIPE);
  const setup =
    config ??
    (initial ? fineTuneSetup(initial, corpus.labels.length, recipe, options.dropout) : newSetup(options, corpus.labels.length, recipe));
  const started = performance.now();
  // Screened: silent or too-short files (src/audio/vad.ts, the rule ser predict applies) would teach their label to
  // audio that holds no emotion; they are left out of the split, counted and named.
  const extracted = await extractUtteranceLogMels(corpus.utterances, {
    frontEnd: setup.frontEnd,
    maxS: recipe.input.maxS,
    cacheDir: options.cacheDir,
    jobs: options.jobs,
    screen: true,
    onProgress: createCountProgress(options.progress ?? 'auto', 'features').update,
  });
  log(
    `features: ${setup.frontEnd.nMels} mels, up to ${recipe.input.maxS} s per utterance; ${extracted.cacheHits} from the cache, ` +
      `${extracted.computed} computed in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const unusable = extracted.failed.filter((f) => f.flag !== undefined);
  const unreadable = extracted.failed.filter((f) => f.flag === undefined);
  if (unusable.length > 0) log(describeUnusable(unusable, corpus.utterances.length));
  if (unreadable.length > 0) log(summarizeFailures({ failed: unreadable, kept: extracted.kept }, 10, corpus.utterances.length));
  for (const warning of extracted.warnings) log(`warning: ${warning}`);

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
    split =
      givenSplit !== undefined
        ? adoptSplit(givenSplit, corpus, extracted.kept, options.splitFile as string)
        : makeSplit(options.split ?? 'random', extracted.kept, {
            seed: options.splitSeed ?? options.seed ?? 0,
            labels: corpus.labels,
            ...(options.validationFraction !== undefined ? { validationFraction: options.validationFraction } : {}),
            ...(options.heldOut ? { heldOut: options.heldOut } : {}),
          });
    mkdirSync(runDir, { recursive: true });
    saveSplit(splitPath, split);
    config = newRunConfig(options, setup, sources, corpus.labels, split, recipe, initial);
    writeRunConfig(runDir, config);
    if (initial && carryLicense(initial, runDir))
      log(`${join(runDir, LICENSE_FILE)}: the terms of ${initial.dir}'s weights, which this run starts from`);
  }
  // On resume, a file that failed to decode when the split was made is in no part: leave it out again.
  const inSplit = new Set(PART_NAMES.flatMap((part) => split.parts[part]));
  const parts = applySplit(
    split,
    extracted.kept.filter((u) => inSplit.has(u.id)),
  );
  if (config.hyper.calibrate && parts.validation.length === 0) {
    throw new SerError('EARG', 'train', '--calibrate fits a temperature on the validation part, and this split has none: drop --calibrate');
  }
  const logMelOf = new Map(extracted.kept.map((u, i) => [u.id, extracted.logMels[i] as Spectrogram]));
  const partUtterances = (part: PartName): PartUtterances => ({
    logMels: parts[part].map((u) => logMelOf.get(u.id) as Spectrogram),
    labels: Int32Array.from(parts[part], (u) => corpus.labels.indexOf(u.label)),
    corpora: Int32Array.from(parts[part], (u) => corpus.sources.indexOf(u.source ?? corpus.sources[0] ?? '')),
    speakers: parts[part].map((u) => (u.speaker === '' ? '' : `${u.source ?? ''}/${u.speaker}`)),
  });
  const inputs = { frames: setup.model.frames, frontEnd: setup.frontEnd, recipe };
  const withRecipe = { ...config, recipe };
  return {
    runDir,
    config: withRecipe,
    split,
    parts,
    train: trainingSource(partUtterances('train'), {
      ...inputs,
      nClasses: setup.model.nClasses,
      seed: withRecipe.seed,
      ...(config.hyper.corpusAdversarial === undefined
        ? {}
        : config.hyper.adversary === 'speaker'
          ? adversarialSpeakers(parts.train)
          : { corpora: adversarialCorpora(parts.train, corpus.sources) }),
    }),
    validation: evaluationSet(partUtterances('validation'), inputs),
    test: evaluationSet(partUtterances('test'), inputs),
    sources: corpus.sources,
    unusable: unusable.length,
    fineTune: initial ? fineTuneWeights(initial, setup.model, corpus.labels, withRecipe.seed) : null,
  };
}

/**
 * The training log's line on screened files: how many, why, the first `shown` with their flags, e.g.
 * "excluded 2 of 26 files as unusable (no speech, or under 0.5 s; src/audio/vad.ts): a.wav (no_speech), b.wav (too_short)".
 */
export function describeUnusable(unusable: ReadonlyArray<{ path: string; flag?: string }>, total: number, shown = 5): string {
  const list = unusable.slice(0, shown).map((f) => `${f.path} (${f.flag})`);
  const more = unusable.length > shown ? `, and ${unusable.length - shown} more` : '';
  return (
    `excluded ${unusable.length} of ${total} files as unusable (no speech, or under ${ASSESS_DEFAULTS.minDurationS} s: ` +
    `the rule of ser predict, src/audio/vad.ts): ${list.join(', ')}${more}`
  );
}

/** Evaluates the trained (best) model on the test part; writes metrics.json, model.onnx and the report. */
async function finishRun(
  prepared: PreparedRun,
  result: TrainResult,
): Promise<{ report: EvaluationReport; perCorpus: Record<string, EvaluationReport> }> {
  const { runDir, config, split, parts, test } = prepared;
  const { model, labels, hyper } = config;
  const clips = test.x.length / (model.nMels * model.frames);
  const logits = await predictLogits(result.trainer, test.x, clips, hyper.batchSize, model.nClasses);
  const windows = test.windows ?? new Int32Array(test.y.length).fill(1);
  const speakers = parts.test.map((u) => u.speaker);
  const calibration = hyper.calibrate ? await calibrateOnValidation(prepared, result, { logits, windows, speakers }) : null;
  const probabilities = calibration
    ? Float32Array.from(temperedProbabilities(logits, windows, model.nClasses, calibration.temperature))
    : averageWindowProbabilities(softmaxRows(logits, model.nClasses), windows, model.nClasses);
  const report = evaluate(test.y, null, labels, { probabilities, speakers });
  const perCorpus = perCorpusReports(parts.test, test.y, probabilities, labels, prepared.sources);
  const metrics = {
    ...toJson(report),
    part: 'test',
    protocol: split.protocol,
    ...(split.heldOut ? { held_out: split.heldOut } : {}),
    dataset: config.data.dataset,
    data_path: config.data.path,
    ...(config.data.corpora ? { corpora: config.data.corpora.map((c) => c.tag) } : {}),
    seed: config.seed,
    // Files left out of the split and training as unusable (no speech, too short: src/audio/vad.ts).
    unusable_excluded: prepared.unusable,
    best_epoch: result.bestEpoch,
    // BN statistics re-estimated with dropout off after each epoch (loop.ts); false: the training steps' own.
    recalibrate_bn: hyper.recalibrateBn,
    epochs_run: result.history.length,
    finished: result.finished,
    // Training wall time summed over epochs (across resumed sessions) and this process's peak resident memory.
    train_seconds: result.history.reduce((sum, record) => sum + record.seconds, 0),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(Object.keys(perCorpus).length > 0
      ? { per_corpus: Object.fromEntries(Object.entries(perCorpus).map(([tag, r]) => [tag, toJson(r)])) }
      : {}),
    ...(calibration ? { calibration: calibrationJson(calibration.temperature, calibration.validation, calibration.test) } : {}),
  };
  writeFileAtomic(join(runDir, METRICS_FILE), JSON.stringify(metrics, null, 2) + '\n');
  writeTestPredictions(runDir, parts.test, test.y, probabilities, labels);
  let deployed: RunConfig = config;
  if (calibration) {
    // The trainer's model is untempered (its config as training began); the deployable one carries the temperature.
    const { temperature: _previous, ...untempered } = model;
    deployed = { ...config, model: { ...untempered, temperature: calibration.temperature } };
    writeFileAtomic(join(runDir, MODEL_FILE), rebuildModelOnnx(result.trainer.exportOnnx('dynamic'), deployed.model));
    writeRunConfig(runDir, deployed);
  } else {
    writeFileAtomic(join(runDir, MODEL_FILE), result.trainer.exportOnnx('dynamic'));
  }
  await writeRunReport(runDir, deployed, split, {
    counts: { train: parts.train.length, validation: parts.validation.length, test: parts.test.length },
    history: result.history,
    bestEpoch: result.bestEpoch,
    report,
    spectrograms: exampleSpectrograms(parts.test, test, probabilities, labels, { ...model, axes: config.frontEnd }),
  });
  return { report, perCorpus };
}

/** Writes RUN_DIR/predictions.csv (src/eval/predictions.ts): each test recording's true class, prediction and probabilities. */
export function writeTestPredictions(
  runDir: string,
  test: readonly Utterance[],
  truth: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  labels: readonly string[],
): void {
  writeFileAtomic(join(runDir, PREDICTIONS_FILE), predictionsCsv(test, truth, probabilities, labels));
}

/** What a run's report.html shows besides its config.json and split: written by ser train, again by ser calibrate. */
export interface RunReportParts {
  counts: { train: number; validation: number; test: number };
  history: readonly EpochRecord[];
  bestEpoch: number | null;
  /** The test part's scores. */
  report: EvaluationReport;
  /** The first test recording of each class (exampleSpectrograms). */
  spectrograms: SpectrogramExample[];
}

/** Writes RUN_DIR/report.html and its figures (src/eval writeHtmlReport) for a finished run with `config` (as deployed). */
export async function writeRunReport(runDir: string, config: RunConfig, split: Split, parts: RunReportParts): Promise<void> {
  const corpusName = config.data.embedded
    ? 'the embedded corpus'
    : config.data.corpora
      ? config.data.corpora.map((c) => c.tag).join(' + ')
      : config.data.dataset;
  await writeHtmlReport(runDir, {
    run: {
      dataset: config.data.corpora ? corpusName : `${corpusName} (${config.data.path})`,
      protocol: split.protocol,
      seed: config.seed,
      splitCounts: parts.counts,
      config: {
        ...config.model,
        ...Object.fromEntries(Object.entries(config.frontEnd).map(([key, value]) => [`frontEnd.${key}`, value])),
        durationS: config.durationS,
        ...(config.recipe ? { recipe: describeRecipe(config.recipe) } : {}),
      },
      hyperParameters: { ...config.hyper },
      epochs: parts.history.length,
      bestEpoch: parts.bestEpoch,
      wallTimeS: parts.history.reduce((sum, record) => sum + record.seconds, 0),
      evaluatedOn: `test split (${parts.counts.test} recordings${split.heldOut ? `, held out: ${heldOutText(split.heldOut)}` : ''}), ${keptEpoch(parts.counts.validation, parts.bestEpoch)}`,
      title: `CNN-TM on ${corpusName}, ${split.protocol} split, seed ${config.seed}`,
      predictionsFile: PREDICTIONS_FILE,
      ...historyNote(config.hyper),
    },
    history: parts.history,
    report: parts.report,
    spectrograms: parts.spectrograms,
    spectrogramsNote:
      'From the test part, never seen in training or model selection: the first recording of each class, its first ' +
      `${config.durationS} s window as the model sees it (dB before input normalisation), with the model's prediction for the recording.`,
  });
}

/**
 * `--calibrate`: the temperature fitted on the validation part's window logits (src/infer/calibrate.ts, as
 * `ser calibrate` fits it), and both parts scored untempered and at it.
 */
async function calibrateOnValidation(
  prepared: PreparedRun,
  result: TrainResult,
  test: { logits: Float32Array; windows: ArrayLike<number>; speakers: string[] },
): Promise<{ temperature: number; validation: CalibratedPart; test: CalibratedPart }> {
  const { config, validation, parts } = prepared;
  const { model, labels, hyper } = config;
  const clips = validation.x.length / (model.nMels * model.frames);
  const logits = await predictLogits(result.trainer, validation.x, clips, hyper.batchSize, model.nClasses);
  const windows = validation.windows ?? new Int32Array(validation.y.length).fill(1);
  const temperature = fittedTemperature(logits, windows, validation.y, labels.length);
  return {
    temperature,
    validation: calibratedPart(
      logits,
      windows,
      validation.y,
      labels,
      temperature,
      parts.validation.map((u) => u.speaker),
    ),
    test: calibratedPart(test.logits, test.windows, prepared.test.y, labels, temperature, test.speakers),
  };
}

/**
 * The corpus head's outputs: every corpus of the run (indices as PartUtterances.corpora), so a corpus held out of a
 * leave-one-corpus-out split keeps an output that is never a target; EARG unless training holds 2+ corpora.
 */
function adversarialCorpora(train: readonly Utterance[], sources: readonly string[]): number {
  const present = new Set(train.map((u) => u.source ?? sources[0]));
  if (present.size < 2) {
    throw new SerError(
      'EARG',
      'train',
      `corpus-adversarial training needs recordings of at least 2 corpora in the training part (it holds ${[...present].join(', ') || 'none'}); give several --data NAME=PATH`,
    );
  }
  return sources.length;
}

/**
 * The speaker-adversarial head's outputs and targets: the training part's speakers (by corpus tag and speaker id,
 * sorted), one output each, and each training utterance's index among them; EARG unless every training recording
 * has a speaker and there are 2+.
 */
function adversarialSpeakers(train: readonly Utterance[]): { corpora: number; domains: Int32Array } {
  const speakerOf = (u: Utterance) => `${u.source ?? ''}/${u.speaker}`;
  const unknown = train.filter((u) => u.speaker === '');
  if (unknown.length > 0) {
    throw new SerError(
      'EARG',
      'train',
      `speaker-adversarial training needs every training recording's speaker, and ${unknown.length} have none (e.g. ${unknown[0]?.path}); use a dataset whose file names or manifest give speakers`,
    );
  }
  const speakers = [...new Set(train.map(speakerOf))].sort();
  if (speakers.length < 2) {
    throw new SerError(
      'EARG',
      'train',
      `speaker-adversarial training needs at least 2 speakers in the training part (it holds ${speakers.length})`,
    );
  }
  return { corpora: speakers.length, domains: Int32Array.from(train, (u) => speakers.indexOf(speakerOf(u))) };
}

/** What the report's history figure shows when the settings change its curves' meaning (nothing otherwise). */
function historyNote(hyper: Hyperparameters): { historyNote?: string } {
  const notes = [
    hyper.emaDecay !== undefined
      ? `With the weight average (decay ${hyper.emaDecay}), the training loss is the trained weights' (over the steps); ` +
        "the training accuracy and the validation curves are the average's, the model that is selected and kept."
      : '',
    hyper.corpusAdversarial !== undefined
      ? `The training loss is the emotion term alone; the ${hyper.adversary ?? 'corpus'} classifier's loss of each epoch is train_corpus_loss in history.jsonl.`
      : '',
  ].filter((note) => note !== '');
  return notes.length > 0 ? { historyNote: notes.join(' ') } : {};
}

function heldOutText(heldOut: HeldOut): string {
  return heldOut.corpus !== undefined ? `corpus ${heldOut.corpus}` : `speakers ${(heldOut.speakers ?? []).join(', ')}`;
}

/** The first test recording of each class as a report figure (its first window), captioned with the model's prediction. */
export function exampleSpectrograms(
  utterances: readonly Utterance[],
  set: EvaluationFeatures,
  probabilities: Float32Array,
  labels: readonly string[],
  model: { nMels: number; frames: number; nClasses: number; axes: SpectrogramAxes },
): SpectrogramExample[] {
  const clipSize = model.nMels * model.frames;
  const firstWindow = new Int32Array(set.y.length);
  for (let i = 1; i < set.y.length; i++) firstWindow[i] = (firstWindow[i - 1] as number) + (set.windows?.[i - 1] ?? 1);
  const examples: SpectrogramExample[] = [];
  labels.forEach((label, c) => {
    const i = set.y.indexOf(c);
    if (i < 0) return;
    const row = probabilities.subarray(i * model.nClasses, (i + 1) * model.nClasses);
    const predicted = row.indexOf(Math.max(...row));
    const start = (firstWindow[i] as number) * clipSize;
    examples.push({
      title: `${label}: ${utterances[i]!.id}`,
      spectrogram: { data: set.x.slice(start, start + clipSize), nMels: model.nMels, frames: model.frames },
      caption: `predicted ${labels[predicted]} (${(100 * row[predicted]!).toFixed(1)}%)`,
      axes: model.axes,
    });
  });
  return examples;
}

/** 'best epoch N', or 'last epoch N' for a run with no validation part (a final fit keeps its last epoch). */
function keptEpoch(validationCount: number, epoch: number | null): string {
  return `${validationCount === 0 ? 'last' : 'best'} epoch ${epoch}`;
}

/** The terminal summary printed at the end of `ser train`. */
export function formatRunSummary(result: TrainRunResult, color = false): string {
  if (!result.report) return '';
  const title = `Test set (${result.config.split.protocol} split, ${result.report.samples} recordings), ${keptEpoch(result.config.split.val, result.bestEpoch)}`;
  const lines = [formatReport(result.report, { color, title })];
  for (const [tag, report] of Object.entries(result.perCorpus)) {
    lines.push(
      `${tag}: ${report.samples} recordings, accuracy ${(100 * report.accuracy).toFixed(1)}%, UAR ${(100 * report.uar).toFixed(1)}%`,
    );
  }
  return lines.join('\n');
}
