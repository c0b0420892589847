/**
 * Using a trained run: its deployable `model.onnx` run by src/runtime, with the inputs its config.json defines
 * (model-use.ts RecordingInputs). `evaluateRun` scores it on a labelled corpus (any corpus whose classes map onto
 * the model's), `predictFiles` and `predictSegments` classify recordings. Without a run directory they use the
 * model shipped in the package (assets/models/default, see its MODEL_CARD.md).
 */
import { join, resolve } from 'node:path';
import { type AudioChunks, AudioAssessor, openAudioChunks } from '../audio/index.js';
import { ASSESS_DEFAULTS } from '../audio/vad.js';
import { type CorpusName, type Utterance, loadCorpus } from '../data/corpus.js';
import { extractFeatures, extractUtteranceLogMels } from '../data/index.js';
import { mappingOnto } from '../data/labels.js';
import { loadCorpora } from '../data/mixture.js';
import { loadSplit } from '../data/splits.js';
import { SerError } from '../errors.js';
import { type EvaluationReport, evaluate } from '../eval/index.js';
import { averageWindowProbabilities } from '../eval/probabilities.js';
import type { Spectrogram } from '../features/front-end.js';
import { type BandNormalizer, groupNormalizers, normalizeBands, speakerNormalizer } from '../features/speaker-norm.js';
import { speechSpan, utteranceWindows } from '../features/utterance.js';
import { assetPath } from '../io/paths.js';
import { checkJobs, defaultJobs } from '../io/worker-pool.js';
import { createSession } from '../runtime/index.js';
import type { Session } from '../runtime/index.js';
import {
  type LabelledPrediction,
  RecordingInputs,
  SegmentClassifier,
  type SegmentedPrediction,
  labelPrediction,
  recordingProbabilities,
  requireSpeaker,
} from './model-use.js';
import { enrolSpeaker } from './enrolment.js';
import {
  type FailedPrediction,
  type FlaggedPrediction,
  type RecordingWindows,
  failure,
  recordingWindows,
  usableAudio,
} from './recording-windows.js';
import { RecordingWindowPool } from './window-pool.js';
import { type RunConfig, SPLIT_FILE, configLabelSpace, configSources } from '../train/run-config.js';
import { readTrainedRun } from '../train/run-dir.js';

/** Clips per run of a model.onnx with a symbolic batch axis (evaluating a corpus, long recordings). */
const BULK_BATCH = 32;
/** Recordings featurised before the model runs on them, when classifying many files (bounds memory). */
const FILES_PER_CHUNK = 64;

/** The run directory of the model shipped in the package: what every command uses without --model. */
export function defaultModelDir(): string {
  return assetPath('models', 'default');
}

/** A run's model.onnx loaded for inference. */
export class RunModel {
  readonly runDir: string;
  readonly config: RunConfig;
  /** Clips per model run: model.onnx's batch size, or BULK_BATCH when its batch axis is symbolic. */
  readonly batch: number;
  /** How a recording becomes this model's inputs. */
  readonly inputs: RecordingInputs;
  private readonly session: Session;

  private constructor(runDir: string, config: RunConfig, session: Session, batch: number, inputs: RecordingInputs) {
    this.runDir = runDir;
    this.config = config;
    this.session = session;
    this.batch = batch;
    this.inputs = inputs;
  }

  /**
   * Loads RUN_DIR/config.json and RUN_DIR/model.onnx (default: the shipped model); errors say what is missing.
   * A model trained with speaker normalisation needs `enrol`, recordings (files or folders) of the speaker whose
   * speech `inputs` makes windows of (enrolment.ts), or `statisticsPerRecording`: the caller normalises each
   * recording's windows with its speaker's statistics itself (evaluateRun); without either it is refused.
   */
  static async load(
    runDir: string = defaultModelDir(),
    options: { threads?: number; enrol?: readonly string[]; statisticsPerRecording?: boolean } = {},
  ): Promise<RunModel> {
    const dir = resolve(runDir);
    const { config, model } = readTrainedRun(dir);
    const speaker = options.enrol === undefined ? undefined : await enrolSpeaker(new RecordingInputs(config), options.enrol);
    if (!options.statisticsPerRecording) requireSpeaker(config, speaker);
    return RunModel.fromBytes(dir, config, model, { threads: options.threads, speaker });
  }

  /** A run's model from model.onnx bytes given here (e.g. rebuilt at another temperature), with the run's config. */
  static async fromBytes(
    runDir: string,
    config: RunConfig,
    model: Uint8Array,
    options: { threads?: number; speaker?: BandNormalizer } = {},
  ): Promise<RunModel> {
    // Made (and the statistics checked) before the session starts: an error there is the caller's, not a model's.
    const inputs = new RecordingInputs(config, options.speaker);
    const session = await createSession(model, { threads: options.threads });
    // Runs made before model.onnx had a symbolic batch axis have a batch of 1.
    const batch = session.inputShapes.mel?.[0];
    return new RunModel(resolve(runDir), config, session, typeof batch === 'number' && batch > 0 ? batch : BULK_BATCH, inputs);
  }

  /** Class probabilities [count, nClasses] of log-mel clips `x` ([count, nMels, frames]). */
  async probabilities(x: Float32Array, count: number): Promise<Float32Array> {
    return this.outputs(x, count, 'probabilities');
  }

  /** The logits [count, nClasses] of log-mel clips `x` ([count, nMels, frames]): what the softmax gives `probabilities` of. */
  async logits(x: Float32Array, count: number): Promise<Float32Array> {
    return this.outputs(x, count, 'logits');
  }

  private async outputs(x: Float32Array, count: number, output: 'probabilities' | 'logits'): Promise<Float32Array> {
    const { nMels, frames, nClasses } = this.config.model;
    const clipSize = nMels * frames;
    if (x.length !== count * clipSize) {
      throw new SerError(
        'ESHAPE',
        'run',
        `features hold ${x.length} values; ${count} clips of ${nMels} x ${frames} need ${count * clipSize}`,
      );
    }
    const out = new Float32Array(count * nClasses);
    for (let start = 0; start < count; start += this.batch) {
      const clips = Math.min(this.batch, count - start);
      if (clips < this.batch && this.batch !== BULK_BATCH)
        throw new SerError('ESHAPE', 'run', `model.onnx takes exactly ${this.batch} clips per run`);
      const mel = { data: x.subarray(start * clipSize, (start + clips) * clipSize), shape: [clips, 1, nMels, frames] };
      const result = await this.session.run({ mel }, [output]);
      out.set(result[output]!.data as Float32Array, start * nClasses);
    }
    return out;
  }

  /** Probabilities [recordings, nClasses] of recordings' windows (counts[i] consecutive windows each, averaged). */
  async recordingProbabilities(windows: Float32Array, counts: ArrayLike<number>): Promise<Float32Array> {
    return recordingProbabilities(windows, counts, this.config.labels.length, (x, n) => this.probabilities(x, n), this.batch);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export interface EvaluateRunOptions {
  /** The corpus to score; default: the corpora the run was trained on (its config.json), read as training read them. */
  data?: { dataset: CorpusName; path: string; labels?: string };
  /**
   * Which utterances: 'all', 'test' (the run's test part; only for a corpus it was trained on), or 'auto'
   * (default): 'test' when `data` is a training corpus (scoring training clips would flatter the model), else 'all'.
   */
  part?: 'auto' | 'all' | 'test';
  /** Feature cache folder; null: none (default: src/data's default). */
  cacheDir?: string | null;
  threads?: number;
  /** Feature worker threads for the files not in the cache (default: src/io/worker-pool.ts defaultJobs()); 0: none. */
  jobs?: number;
  /** Called as each recording's features are read from the cache or computed (e.g. a progress bar). */
  onProgress?: (done: number, total: number) => void;
  /**
   * For a model trained with speaker normalisation (required there, refused elsewhere): where each speaker's band
   * statistics come from. 'scored': the speaker's recordings being scored (as `ser train` evaluates; recordings of
   * no known speaker are each their own); 'train': the speaker's recordings in the run's training part (an enrolled
   * speaker, no scored recording used; only with the test part of a split whose test speakers also train).
   */
  enrol?: 'scored' | 'train';
}

export interface EvaluateRunResult {
  report: EvaluationReport;
  part: 'all' | 'test';
  /** Corpus label -> model label, for the labels that occur. */
  mapping: Record<string, string>;
  /** Corpus labels with no class in the model, and how many recordings of each were left out. */
  unmapped: Record<string, number>;
  /** Files skipped: unreadable, undecodable or unusable samples, or flagged no_speech / too_short (src/audio/vad.ts). */
  failed: Array<{ path: string; error: string }>;
  /** What decoding worked around (a truncated file decoded as far as it goes), for files not read from the cache. */
  warnings: string[];
  config: RunConfig;
  /** The recordings scored, in order, with their true class indices and probabilities [recordings, classes] (src/eval predictionsCsv). */
  scored: { recordings: Utterance[]; truth: Int32Array; probabilities: Float32Array };
}

/**
 * Scores a trained run (default: the shipped model) on a corpus. Classes are matched by name or alias
 * (labels.ts: fearful = fear, anger = angry, ...); recordings of classes the model lacks are left out and counted
 * in `unmapped`.
 */
export async function evaluateRun(runDir: string | undefined, options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const model = await RunModel.load(runDir, { threads: options.threads, statisticsPerRecording: options.enrol !== undefined });
  try {
    const { config } = model;
    const { data } = options;
    const dataPath = data ? resolve(data.path) : '';
    const dataName = data ? data.path : trainingCorpora(config);
    const corpus = data
      ? loadCorpus({ dataset: data.dataset, path: dataPath, labels: data.labels })
      : loadCorpora(configSources(config), { labels: configLabelSpace(config) });
    const { mapping, unmapped: unmappedLabels } = mappingOnto(corpus.labels, config.labels);
    const unmapped: Record<string, number> = {};
    for (const label of unmappedLabels) {
      const count = corpus.utterances.filter((u) => u.label === label).length;
      if (count > 0) unmapped[label] = count;
    }
    let utterances = corpus.utterances.filter((u) => mapping.map.has(u.label));
    if (utterances.length === 0) {
      throw new SerError(
        'EDATA',
        'eval',
        `${dataName}: none of its classes (${corpus.labels.join(', ')}) is one of the model's (${config.labels.join(', ')})`,
      );
    }
    // The training corpora read as training read them carry the split's ids as they are (a mixture's tagged).
    const trainingTag = data ? trainingCorpusTag(config, data.dataset, dataPath) : '';
    const requested = options.part ?? 'auto';
    if (requested === 'test' && trainingTag === null) {
      throw new SerError('EARG', 'eval', `--part test needs a corpus the run was trained on (${trainingCorpora(config)})`);
    }
    let part: 'all' | 'test' = requested === 'auto' ? (trainingTag !== null ? 'test' : 'all') : requested;
    // The ids of a part of split.json from this corpus (files that failed to decode in training are in no part: left
    // out here too); the test part read only when it is what gets scored.
    const prefix = trainingTag ? `${trainingTag}/` : '';
    const splitPart = (name: 'train' | 'test'): Set<string> =>
      new Set(
        loadSplit(join(model.runDir, SPLIT_FILE))
          .parts[name].filter((id) => id.startsWith(prefix))
          .map((id) => id.slice(prefix.length)),
      );
    const testPart = part === 'test' ? splitPart('test') : new Set<string>();
    const notice: string[] = [];
    if (part === 'test' && testPart.size === 0) {
      // A corpus the run trained on whole (e.g. every corpus but the held-out one of a leave-one-corpus-out run).
      const why = `${dataName}: the run trained on every recording of it (its test part holds none)`;
      if (requested === 'test')
        throw new SerError('EDATA', 'eval', `${why}: there is no test part to score; --part all scores the training recordings`);
      part = 'all';
      notice.push(`${why}: scoring all of them, so these are scores on training data, not on unseen speakers`);
    }
    if (part === 'test') utterances = utterances.filter((u) => testPart.has(u.id));
    const extraction = { cacheDir: options.cacheDir, jobs: options.jobs };
    const speakerStatistics = evaluationSpeakers(
      model,
      options.enrol,
      part,
      () => {
        const trainPart = splitPart('train');
        return corpus.utterances.filter((u) => trainPart.has(u.id));
      },
      extraction,
    );
    const scored = await scoreUtterances(model, utterances, { ...extraction, onProgress: options.onProgress, speakerStatistics });
    if (scored.kept.length === 0) {
      throw new SerError(
        'EDATA',
        'eval',
        `${dataName}: none of the ${utterances.length} files could be used (first: ${scored.failed[0]?.error ?? '?'})`,
      );
    }
    const y = Int32Array.from(scored.kept, (u) => config.labels.indexOf(mapping.map.get(u.label)!));
    const report = evaluate(y, null, config.labels, {
      probabilities: scored.probabilities,
      speakers: scored.kept.map((u) => u.speaker),
    });
    const used = Object.fromEntries([...new Set(scored.kept.map((u) => u.label))].map((label) => [label, mapping.map.get(label)!]));
    return {
      report,
      part,
      mapping: used,
      unmapped,
      failed: scored.failed,
      warnings: [...notice, ...scored.warnings],
      config,
      scored: { recordings: scored.kept, truth: y, probabilities: scored.probabilities },
    };
  } finally {
    await model.release();
  }
}

/**
 * How evaluateRun gives each scored recording its speaker's statistics (EvaluateRunOptions.enrol), or undefined for
 * a model without speaker normalisation; refuses a missing or misplaced `enrol`, saying why. `trainingPart` gives the
 * corpus's recordings in the run's training part.
 */
function evaluationSpeakers(
  model: RunModel,
  enrol: 'scored' | 'train' | undefined,
  part: 'all' | 'test',
  trainingPart: () => Utterance[],
  extraction: { cacheDir?: string | null; jobs?: number },
): SpeakerStatistics | undefined {
  const { config } = model;
  const recipe = config.recipe;
  if (enrol === undefined) {
    requireSpeaker(config, undefined);
    return undefined;
  }
  if (!recipe?.speakerNorm) throw new SerError('EARG', 'eval', `--enrol ${enrol}: this model was trained without speaker normalisation`);
  const topDb = config.frontEnd.topDb;
  if (enrol === 'scored') {
    return (kept, logMels) =>
      groupNormalizers(
        logMels,
        logMels.map((logMel) => speechSpan(logMel, recipe.input.trimDb)),
        kept.map((u) => u.speaker),
        topDb,
      );
  }
  if (part !== 'test') {
    throw new SerError(
      'EARG',
      'eval',
      "--enrol train takes statistics from the run's training part: it scores the run's test part (--part test)",
    );
  }
  return async (kept) => {
    const speakers = new Set(kept.map((u) => u.speaker));
    const enrolled = await extractUtteranceLogMels(
      trainingPart().filter((u) => speakers.has(u.speaker)),
      { frontEnd: config.frontEnd, maxS: recipe.input.maxS, screen: true, ...extraction },
    );
    const bySpeaker = new Map<string, Spectrogram[]>();
    enrolled.kept.forEach((u, i) => {
      bySpeaker.set(u.speaker, [...(bySpeaker.get(u.speaker) ?? []), enrolled.logMels[i] as Spectrogram]);
    });
    const statistics = new Map(
      [...bySpeaker].map(([speaker, logMels]) => [speaker, speakerNormalizer(logMels, recipe.input.trimDb, topDb)]),
    );
    return kept.map((u) => {
      const found = statistics.get(u.speaker);
      if (found === undefined || u.speaker === '') {
        throw new SerError(
          'EDATA',
          'eval',
          `--enrol train: ${u.speaker === '' ? `${u.path} has no speaker` : `speaker ${u.speaker} has no recording in the run's training part`} ` +
            "(a split whose test speakers also train, e.g. a random one, has them); --enrol scored takes each speaker's statistics over the recordings scored",
        );
      }
      return found;
    });
  };
}

/**
 * The tag of the training corpus `dataset` at `path` ('' for a single-corpus run, the mixture tag otherwise), or
 * null when the run was not trained on it.
 */
function trainingCorpusTag(config: RunConfig, dataset: CorpusName, path: string): string | null {
  if (config.data.corpora) return config.data.corpora.find((c) => c.dataset === dataset && resolve(c.path) === path)?.tag ?? null;
  return config.data.dataset === dataset && config.data.path === path ? '' : null;
}

function trainingCorpora(config: RunConfig): string {
  if (config.data.corpora) return config.data.corpora.map((c) => `${c.dataset} at ${c.path}`).join(', ');
  return `${config.data.dataset} at ${config.data.path}`;
}

/** Probabilities of each utterance the features could be made for (cached features, the run's input windows). */
async function scoreUtterances(
  model: RunModel,
  utterances: readonly Utterance[],
  options: {
    cacheDir?: string | null;
    jobs?: number;
    onProgress?: (done: number, total: number) => void;
    speakerStatistics?: SpeakerStatistics;
  },
): Promise<{ kept: Utterance[]; probabilities: Float32Array; failed: Array<{ path: string; error: string }>; warnings: string[] }> {
  const scored = await scoreWindows(model, utterances, { ...options, output: 'probabilities' });
  const probabilities = averageWindowProbabilities(scored.rows, scored.counts, model.config.labels.length);
  return { kept: scored.kept, probabilities, failed: scored.failed, warnings: scored.warnings };
}

/**
 * The band statistics of each kept utterance's speaker (its unclamped log-mels given), for a model trained with
 * speaker normalisation.
 */
export type SpeakerStatistics = (
  kept: readonly Utterance[],
  logMels: readonly Spectrogram[],
) => readonly BandNormalizer[] | Promise<readonly BandNormalizer[]>;

export interface WindowScores {
  /** The utterances the features could be made for, in the order given. */
  kept: Utterance[];
  /** The model's output for every input window [sum(counts), nClasses], a kept utterance's windows in a row. */
  rows: Float32Array;
  /** Input windows of each kept utterance (1 each for a run without a recipe: its first durationS seconds). */
  counts: Int32Array;
  failed: Array<{ path: string; error: string }>;
  warnings: string[];
}

/**
 * A run's output (`probabilities` or `logits`) for every input window of `utterances` (cached features, the run's
 * input windows as every inference path makes them), FILES_PER_CHUNK recordings' windows at a time.
 */
export async function scoreWindows(
  model: RunModel,
  utterances: readonly Utterance[],
  options: {
    cacheDir?: string | null;
    jobs?: number;
    output: 'probabilities' | 'logits';
    onProgress?: (done: number, total: number) => void;
    /**
     * Each utterance's speaker statistics, for a model trained with speaker normalisation (refused otherwise); without
     * them such a model needs an enrolled speaker (RunModel.load's `enrol`), whose statistics serve every utterance.
     */
    speakerStatistics?: SpeakerStatistics;
  },
): Promise<WindowScores> {
  const { config } = model;
  const { cacheDir, jobs, output, onProgress, speakerStatistics } = options;
  if (speakerStatistics === undefined) requireSpeaker(config, model.inputs.speaker);
  else if (!config.recipe?.speakerNorm)
    throw new SerError('EARG', 'eval', 'speaker statistics were given for a model trained without speaker normalisation');
  const run = (x: Float32Array, count: number): Promise<Float32Array> =>
    output === 'logits' ? model.logits(x, count) : model.probabilities(x, count);
  if (!config.recipe) {
    const extracted = await extractFeatures(utterances, {
      frontEnd: config.frontEnd,
      durationS: config.durationS,
      cacheDir,
      jobs,
      screen: true,
      onProgress,
    });
    const rows = await run(extracted.features, extracted.kept.length);
    return {
      kept: extracted.kept,
      rows,
      counts: new Int32Array(extracted.kept.length).fill(1),
      failed: extracted.failed,
      warnings: extracted.warnings,
    };
  }
  const recipe = config.recipe;
  const extracted = await extractUtteranceLogMels(utterances, {
    frontEnd: config.frontEnd,
    maxS: recipe.input.maxS,
    cacheDir,
    jobs,
    screen: true,
    onProgress,
  });
  const counts = new Int32Array(extracted.kept.length);
  const chunks: Float32Array[] = [];
  const enrolled = model.inputs.speaker;
  const speakers = speakerStatistics
    ? await speakerStatistics(extracted.kept, extracted.logMels)
    : enrolled && extracted.kept.map(() => enrolled);
  for (let first = 0; first < extracted.kept.length; first += FILES_PER_CHUNK) {
    const chunk = extracted.logMels.slice(first, first + FILES_PER_CHUNK).map((logMel, i) => {
      const windows = utteranceWindows(logMel, config.model.frames, recipe.input, config.frontEnd.topDb);
      const speaker = speakers?.[first + i];
      if (speaker) normalizeBands(windows.windows, speaker, config.model.frames);
      return windows;
    });
    for (const [i, c] of chunk.entries()) counts[first + i] = c.count;
    chunks.push(
      await run(
        joinWindows(chunk),
        chunk.reduce((sum, c) => sum + c.count, 0),
      ),
    );
  }
  return {
    kept: extracted.kept,
    rows: joinWindows(chunks.map((windows) => ({ windows }))),
    counts,
    failed: extracted.failed,
    warnings: extracted.warnings,
  };
}

function joinWindows(parts: ReadonlyArray<{ windows: Float32Array }>): Float32Array {
  const joined = new Float32Array(parts.reduce((sum, p) => sum + p.windows.length, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p.windows, at);
    at += p.windows.length;
  }
  return joined;
}

export type { FailedPrediction, FlaggedPrediction } from './recording-windows.js';

/** A file's LabelledPrediction (label: the most probable class; probabilities in the model's class order). */
export interface Prediction extends LabelledPrediction {
  file: string;
  /** What decoding worked around (a truncated file decoded as far as it goes); absent when nothing. */
  warnings?: string[];
}

/**
 * Classifies audio files with a run's model (default: the shipped model), in the order given. A file that
 * cannot be read or decoded gets a FailedPrediction, one without speech or too short a FlaggedPrediction (the
 * model is not run on it), and the others go on; an EARG error only without files.
 *
 * Files are decoded and made into windows (recording-windows.ts) on `jobs` worker threads (window-pool.ts), the
 * next FILES_PER_CHUNK files while the model runs on the current ones, so at most two chunks of windows are held.
 * With `jobs` 0, or a single file, it is all done on the calling thread, one file after another. Both give the
 * same results to the bit: the same code on the same samples, the model on the same chunks.
 */
export async function predictFiles(
  runDir: string | undefined,
  files: readonly string[],
  options: {
    threads?: number;
    /** Decoding worker threads (default: src/io/worker-pool.ts defaultJobs(), one per core up to 4; never more than files); 0: none. */
    jobs?: number;
    /** Called after each chunk of files with the files done so far (e.g. a progress bar). */
    onProgress?: (done: number, total: number) => void;
    /** Recordings (files or folders) of the speaker of every file, for a model trained with speaker normalisation (enrolment.ts). */
    enrol?: readonly string[];
  } = {},
): Promise<Array<Prediction | FlaggedPrediction | FailedPrediction>> {
  if (files.length === 0) throw new SerError('EARG', 'predict', 'no audio files given (usage: ser predict [--model RUN_DIR] FILE...)');
  const jobs = checkJobs(options.jobs ?? defaultJobs(), 'predict');
  const model = await RunModel.load(runDir, { threads: options.threads, enrol: options.enrol });
  let pool: RecordingWindowPool | null = null;
  let next: Promise<PreparedChunk> | null = null;
  try {
    // One file has nothing to overlap: a worker would only add its start (~0.1 s).
    pool = jobs > 0 && files.length > 1 ? new RecordingWindowPool(model.config, Math.min(jobs, files.length), model.inputs.speaker) : null;
    const prepare = (first: number): Promise<PreparedChunk> => {
      const chunk = files.slice(first, first + FILES_PER_CHUNK);
      if (pool) return Promise.all(chunk.map((file) => (pool as RecordingWindowPool).windowsOf(file)));
      return (async () => {
        const prepared: PreparedChunk = [];
        for (const file of chunk) prepared.push(await recordingWindows(file, model.inputs));
        return prepared;
      })();
    };
    const results: Array<Prediction | FlaggedPrediction | FailedPrediction> = [];
    for (let first = 0; first < files.length; first += FILES_PER_CHUNK) {
      const chunk = await (next ?? prepare(first));
      // With workers the next chunk is decoded while the model runs on this one.
      next = pool && first + FILES_PER_CHUNK < files.length ? prepare(first + FILES_PER_CHUNK) : null;
      results.push(...(await predictChunk(model, chunk)));
      options.onProgress?.(results.length, files.length);
    }
    return results;
  } finally {
    // A chunk still being made when the model failed: its rejection (the pool closing) is not this call's error.
    next?.catch(() => {});
    await pool?.close();
    await model.release();
  }
}

type PreparedChunk = Array<RecordingWindows | FlaggedPrediction | FailedPrediction>;

/** The model on the windows of a chunk's usable files; each file's result in the chunk's order. */
async function predictChunk(model: RunModel, chunk: PreparedChunk): Promise<Array<Prediction | FlaggedPrediction | FailedPrediction>> {
  const usable = chunk.filter((c): c is RecordingWindows => 'windows' in c);
  const probabilities = await model.recordingProbabilities(
    joinWindows(usable),
    usable.map((c) => c.count),
  );
  const { labels } = model.config;
  const n = labels.length;
  let k = 0;
  return chunk.map((c) => {
    if (!('windows' in c)) return c;
    const warnings = c.warnings ? { warnings: c.warnings } : {};
    const prediction = { file: c.file, ...labelPrediction(probabilities.subarray(k * n, (k + 1) * n), labels), ...warnings };
    k++;
    return prediction;
  });
}

/** A file's SegmentedPrediction: its windows' predictions and the label of their mean probabilities. */
export interface SegmentedFilePrediction extends SegmentedPrediction {
  file: string;
  warnings?: string[];
}

/**
 * Classifies long recordings window by window (model-use.ts classifySegments: windows of the run's clip length
 * every `hopS` seconds, default the clip length), for speech longer than the clips the model was trained on.
 * Windows without speech are listed in `flaggedSegments` and not classified; a file without speech in any window,
 * or too short, gets a FlaggedPrediction; unusable files a FailedPrediction, as in predictFiles. WAV and AIFF files
 * are read a chunk at a time (src/audio openAudioChunks, SegmentClassifier), so memory does not grow with the
 * recording; other formats are decoded whole. Both give the same results.
 */
export async function predictSegments(
  runDir: string | undefined,
  files: readonly string[],
  options: {
    hopS?: number;
    threads?: number;
    gate?: boolean;
    /** Decode WAV and AIFF files whole too, as other formats (default false; for tests of the bounded path). */
    wholeFile?: boolean;
    /**
     * Called as a file is classified (after each part of about 10 s: seconds of its audio done, of its length), e.g.
     * a progress bar for long recordings. WAV and AIFF report as they are read; other formats once decoded whole
     * (decoding itself reports nothing), as their windows go through the model.
     */
    onProgress?: (file: string, doneS: number, totalS: number) => void;
    /** Recordings (files or folders) of the speaker of every file, for a model trained with speaker normalisation (enrolment.ts). */
    enrol?: readonly string[];
  } = {},
): Promise<Array<SegmentedFilePrediction | FlaggedPrediction | FailedPrediction>> {
  if (files.length === 0)
    throw new SerError('EARG', 'predict', 'no audio files given (usage: ser predict [--model RUN_DIR] --segments FILE...)');
  const model = await RunModel.load(runDir, { threads: options.threads, enrol: options.enrol });
  try {
    const { config } = model;
    const results: Array<SegmentedFilePrediction | FlaggedPrediction | FailedPrediction> = [];
    const segmentOptions = { hopS: options.hopS, batch: model.batch, gate: options.gate ?? true };
    const probabilities = (mels: Float32Array, count: number) => model.probabilities(mels, count);
    for (const file of files) {
      const segmenter = new SegmentClassifier(model.inputs, config, probabilities, segmentOptions);
      const bounded = options.wholeFile ? null : await segmentsInChunks(file, config, segmenter, options.onProgress);
      if (bounded) {
        results.push(bounded);
        continue;
      }
      const usable = await usableAudio(file, config.frontEnd.sampleRateHz);
      if (!('samples' in usable)) {
        results.push(usable);
        continue;
      }
      await pushInParts(segmenter, usable.samples, config.frontEnd.sampleRateHz, (doneS, totalS) =>
        options.onProgress?.(file, doneS, totalS),
      );
      results.push(segmentedResult(file, await segmenter.finish(), config, usable.warnings));
    }
    return results;
  } finally {
    await model.release();
  }
}

/**
 * Seconds of audio given to a SegmentClassifier at a time, read from a WAV/AIFF file or cut from a recording decoded
 * whole: how often predictSegments reports progress (the results do not depend on it).
 */
const PART_S = 10;

/**
 * A WAV/AIFF `file` through `segmenter` chunk by chunk (src/audio openAudioChunks), judged whole by the
 * unusable-audio rule as it streams (AudioAssessor: usableAudio's verdict); null for other formats.
 */
async function segmentsInChunks(
  file: string,
  config: Pick<RunConfig, 'durationS' | 'frontEnd'>,
  segmenter: SegmentClassifier,
  onProgress?: (file: string, doneS: number, totalS: number) => void,
): Promise<SegmentedFilePrediction | FlaggedPrediction | FailedPrediction | null> {
  const sampleRateHz = config.frontEnd.sampleRateHz;
  let audio: AudioChunks | null;
  try {
    audio = await openAudioChunks(file, { sampleRateHz, chunkS: PART_S });
  } catch (error) {
    return failure(file, error);
  }
  if (!audio) return null;
  const assessor = new AudioAssessor(sampleRateHz, file);
  const chunks = audio.chunks();
  let readS = 0;
  try {
    for (;;) {
      let next: IteratorResult<Float32Array>;
      try {
        next = await chunks.next();
      } catch (error) {
        return failure(file, error); // reading or decoding (a model error below is not the file's)
      }
      if (next.done) break;
      assessor.push(next.value);
      await segmenter.push(next.value);
      readS += next.value.length / sampleRateHz;
      onProgress?.(file, Math.min(readS, audio.durationS), audio.durationS);
    }
    // Resampling may leave the count a sample short of the header's length: the end is the end.
    onProgress?.(file, audio.durationS, audio.durationS);
  } finally {
    await chunks.return(undefined);
  }
  const warnings = audio.warnings.length > 0 ? audio.warnings : undefined;
  const verdict = assessor.finish();
  if (verdict.kind === 'error') return failure(file, verdict.error);
  if (verdict.kind === 'flagged') return { file, flag: verdict.flag, reason: verdict.reason, ...(warnings ? { warnings } : {}) };
  return segmentedResult(file, await segmenter.finish(), config, warnings);
}

/**
 * A whole decoded recording through `segmenter` PART_S seconds at a time, reporting after each part: the same
 * windows and numbers as one push (SegmentClassifier takes chunks of any size), with progress for long files.
 */
async function pushInParts(
  segmenter: SegmentClassifier,
  samples: Float32Array,
  sampleRateHz: number,
  onProgress: (doneS: number, totalS: number) => void,
): Promise<void> {
  const part = PART_S * sampleRateHz;
  const totalS = samples.length / sampleRateHz;
  for (let at = 0; at < samples.length; at += part) {
    const end = Math.min(at + part, samples.length);
    await segmenter.push(samples.subarray(at, end));
    onProgress(end / sampleRateHz, totalS);
  }
}

/** A file's segments as its result: a FlaggedPrediction when no window holds speech. */
function segmentedResult(
  file: string,
  prediction: SegmentedPrediction,
  config: Pick<RunConfig, 'durationS'>,
  warnings: string[] | undefined,
): SegmentedFilePrediction | FlaggedPrediction {
  if (prediction.segments.length === 0) {
    const reason = `no speech found: no ${config.durationS} s window holds ${ASSESS_DEFAULTS.minSpeechS} s of speech`;
    return { file, flag: 'no_speech', reason };
  }
  return { file, ...prediction, ...(warnings ? { warnings } : {}) };
}

/** The predictions of `results` when every file could be classified, else one EDECODE error listing each failure and flag. */
export function allPredicted<T extends { file: string }>(results: ReadonlyArray<T | FlaggedPrediction | FailedPrediction>): T[] {
  const failed = results.filter((r): r is FailedPrediction | FlaggedPrediction => 'error' in r || 'flag' in r);
  if (failed.length > 0) {
    const why = (f: FailedPrediction | FlaggedPrediction) => ('error' in f ? f.error : `${f.flag}: ${f.reason}`);
    throw new SerError(
      'EDECODE',
      'predict',
      `${failed.length} of ${results.length} file(s) could not be classified:\n  ${failed.map((f) => `${f.file}: ${why(f)}`).join('\n  ')}`,
    );
  }
  return results as T[];
}
