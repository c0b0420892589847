/**
 * Using a trained run: its deployable `model.onnx` run by src/runtime, with the front end and clip length of its
 * config.json. `evaluateRun` scores it on a labelled corpus (any corpus whose classes map onto the model's),
 * `predictFiles` classifies new recordings.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CorpusName, type Utterance, loadCorpus } from '../data/corpus.js';
import { extractFeatures } from '../data/index.js';
import { mappingOnto } from '../data/labels.js';
import { loadSplit } from '../data/splits.js';
import { loadAudio } from '../audio/index.js';
import { SerError } from '../errors.js';
import { LogMelFrontEnd } from '../features/index.js';
import { type EvaluationReport, evaluate } from '../eval/index.js';
import { createSession } from '../runtime/index.js';
import type { Session } from '../runtime/index.js';
import { type LabelledPrediction, type SegmentedPrediction, classifySegments, labelPrediction } from './model-use.js';
import { MODEL_FILE, type RunConfig, SPLIT_FILE, readRunConfig } from './run-config.js';

/** Clips per run of a model.onnx with a symbolic batch axis (evaluating a corpus, long recordings). */
const BULK_BATCH = 32;

/** A run's model.onnx loaded for inference. */
export class RunModel {
  readonly runDir: string;
  readonly config: RunConfig;
  /** Clips per model run: model.onnx's batch size, or BULK_BATCH when its batch axis is symbolic. */
  readonly batch: number;
  private readonly session: Session;

  private constructor(runDir: string, config: RunConfig, session: Session, batch: number) {
    this.runDir = runDir;
    this.config = config;
    this.session = session;
    this.batch = batch;
  }

  /** Loads RUN_DIR/config.json and RUN_DIR/model.onnx; errors say what is missing. */
  static async load(runDir: string, options: { threads?: number } = {}): Promise<RunModel> {
    const dir = resolve(runDir);
    const config = readRunConfig(dir);
    const modelPath = join(dir, MODEL_FILE);
    if (!existsSync(modelPath)) {
      throw new SerError(
        'EIO',
        'run',
        `${runDir}: no ${MODEL_FILE}; the model is exported when training ends (resume an interrupted run with: ser train --out ${runDir} --resume)`,
      );
    }
    const session = await createSession(readFileSync(modelPath), { threads: options.threads });
    // Runs made before model.onnx had a symbolic batch axis have a batch of 1.
    const batch = session.inputShapes.mel?.[0];
    return new RunModel(dir, config, session, typeof batch === 'number' && batch > 0 ? batch : BULK_BATCH);
  }

  /** Class probabilities [count, nClasses] of log-mel clips `x` ([count, nMels, frames]). */
  async probabilities(x: Float32Array, count: number): Promise<Float32Array> {
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
      const result = await this.session.run({ mel }, ['probabilities']);
      out.set(result.probabilities!.data as Float32Array, start * nClasses);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export interface EvaluateRunOptions {
  /** The corpus to score. */
  data: { dataset: CorpusName; path: string; labels?: string };
  /**
   * Which utterances: 'all', 'test' (the run's test part; only for the corpus it was trained on), or 'auto'
   * (default): 'test' when `data` is the training corpus (scoring training clips would flatter the model), else 'all'.
   */
  part?: 'auto' | 'all' | 'test';
  /** Feature cache folder; null: none (default: src/data's default). */
  cacheDir?: string | null;
  threads?: number;
}

export interface EvaluateRunResult {
  report: EvaluationReport;
  part: 'all' | 'test';
  /** Corpus label -> model label, for the labels that occur. */
  mapping: Record<string, string>;
  /** Files skipped because they could not be decoded or used. */
  failed: Array<{ path: string; error: string }>;
  config: RunConfig;
}

/** Scores a trained run on a corpus; classes are matched by name, ignoring case, or by synonym (fearful = fear, see mappingOnto). */
export async function evaluateRun(runDir: string, options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const model = await RunModel.load(runDir, { threads: options.threads });
  try {
    const { config } = model;
    const dataPath = resolve(options.data.path);
    const corpus = loadCorpus({ dataset: options.data.dataset, path: dataPath, labels: options.data.labels });
    const { mapping, unmapped } = mappingOnto(corpus.labels, config.labels);
    if (unmapped.length > 0) {
      const mappable = corpus.labels.filter((label) => !unmapped.includes(label));
      throw new SerError(
        'EDATA',
        'eval',
        `${options.data.path}: label${unmapped.length > 1 ? 's' : ''} ${unmapped.join(', ')} ha${unmapped.length > 1 ? 've' : 's'} no class in the model ` +
          `(${config.labels.join(', ')}); evaluate the others with --labels ${mappable.join(',') || '...'}`,
      );
    }
    const sameCorpus = options.data.dataset === config.data.dataset && dataPath === config.data.path;
    const requested = options.part ?? 'auto';
    if (requested === 'test' && !sameCorpus) {
      throw new SerError(
        'EARG',
        'eval',
        `--part test needs the corpus the run was trained on (${config.data.dataset} at ${config.data.path})`,
      );
    }
    const part = requested === 'auto' ? (sameCorpus ? 'test' : 'all') : requested;
    let utterances: Utterance[] = corpus.utterances;
    if (part === 'test') {
      // The test ids of split.json (files that failed to decode in training are in no part: left out here too).
      const testIds = new Set(loadSplit(join(model.runDir, SPLIT_FILE)).parts.test);
      utterances = corpus.utterances.filter((u) => testIds.has(u.id));
    }
    const extracted = await extractFeatures(utterances, {
      frontEnd: config.frontEnd,
      durationS: config.durationS,
      cacheDir: options.cacheDir,
    });
    if (extracted.kept.length === 0) {
      throw new SerError(
        'EDATA',
        'eval',
        `${options.data.path}: none of the ${utterances.length} files could be used (first: ${extracted.failed[0]?.error ?? '?'})`,
      );
    }
    const y = Int32Array.from(extracted.kept, (u) => config.labels.indexOf(mapping.map.get(u.label)!));
    const probabilities = await model.probabilities(extracted.features, extracted.kept.length);
    const report = evaluate(y, null, config.labels, { probabilities });
    const used = Object.fromEntries([...new Set(extracted.kept.map((u) => u.label))].map((label) => [label, mapping.map.get(label)!]));
    return { report, part, mapping: used, failed: extracted.failed, config };
  } finally {
    await model.release();
  }
}

/** A file's LabelledPrediction (label: the most probable class; probabilities in the model's class order). */
export interface Prediction extends LabelledPrediction {
  file: string;
}

/** Classifies audio files; every file that cannot be read is reported in one EIO/EDECODE error. */
export async function predictFiles(runDir: string, files: readonly string[], options: { threads?: number } = {}): Promise<Prediction[]> {
  checkAudioFiles(files, 'ser predict --model RUN_DIR FILE...');
  const model = await RunModel.load(runDir, { threads: options.threads });
  try {
    const { config } = model;
    // The training pipeline's own feature extraction (uncached), so a file is featurised exactly as in training.
    const utterances: Utterance[] = files.map((file) => ({ path: resolve(file), id: file, label: '', speaker: '', corpus: 'csv' }));
    const extracted = await extractFeatures(utterances, { frontEnd: config.frontEnd, durationS: config.durationS, cacheDir: null });
    if (extracted.failed.length > 0)
      throw unusable(
        extracted.failed.map((failure) => failure.error),
        files.length,
      );
    const probabilities = await model.probabilities(extracted.features, files.length);
    const n = config.labels.length;
    return files.map((file, i) => ({ file, ...labelPrediction(probabilities.subarray(i * n, (i + 1) * n), config.labels) }));
  } finally {
    await model.release();
  }
}

/** A file's SegmentedPrediction: its windows' predictions and the label of their mean probabilities. */
export interface SegmentedFilePrediction extends SegmentedPrediction {
  file: string;
}

/**
 * Classifies long recordings window by window (model-use.ts classifySegments: windows of the run's clip length
 * every `hopS` seconds, default the clip length), for speech longer than the clips the model was trained on
 * (predictFiles keeps only each file's first clip length, as training does).
 */
export async function predictSegments(
  runDir: string,
  files: readonly string[],
  options: { hopS?: number; threads?: number } = {},
): Promise<SegmentedFilePrediction[]> {
  checkAudioFiles(files, 'ser predict --model RUN_DIR --segments FILE...');
  const model = await RunModel.load(runDir, { threads: options.threads });
  try {
    const { config } = model;
    const frontEnd = new LogMelFrontEnd(config.frontEnd);
    const results: SegmentedFilePrediction[] = [];
    const failed: string[] = [];
    for (const file of files) {
      let samples: Float32Array;
      try {
        samples = (await loadAudio(file, { sampleRateHz: frontEnd.config.sampleRateHz })).samples;
      } catch (error) {
        failed.push(error instanceof Error ? error.message : String(error));
        continue;
      }
      const prediction = await classifySegments(samples, frontEnd, config, (mels, count) => model.probabilities(mels, count), {
        hopS: options.hopS,
        batch: model.batch,
      });
      results.push({ file, ...prediction });
    }
    if (failed.length > 0) throw unusable(failed, files.length);
    return results;
  } finally {
    await model.release();
  }
}

/** EARG without files, EIO naming every missing one: before a model is loaded or anything decoded. */
function checkAudioFiles(files: readonly string[], usage: string): void {
  if (files.length === 0) throw new SerError('EARG', 'predict', `no audio files given (usage: ${usage})`);
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new SerError('EIO', 'predict', `no such file${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
}

/** One EDECODE error listing every file that could not be decoded or used. */
function unusable(errors: readonly string[], total: number): SerError {
  return new SerError('EDECODE', 'predict', `${errors.length} of ${total} file(s) could not be used:\n  ${errors.join('\n  ')}`);
}
