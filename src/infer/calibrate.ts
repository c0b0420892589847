/**
 * `ser calibrate`: temperature scaling of a trained run (src/eval/calibration.ts), fitted on the run's validation
 * part (the recordings early stopping used, never its test part) and written into the run, so every inference path
 * (model.onnx in Node, the web recognizer, `ser export`) gives calibrated probabilities. The fit starts from the
 * run's weights untempered (model.onnx rebuilt without a temperature), so calibrating again, or after an interrupted
 * calibration, gives the same model. Writes model.onnx, then config.json (model.temperature), then metrics.json (the
 * test part scored again at the fitted temperature, with a `calibration` record) and report.html with its figures
 * (the same scores; training history and split as they were). With a given temperature (`--temperature T`) nothing
 * is fitted: T is written the same way (`fitted_on: 'given'`), for a run with no validation part to fit on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Utterance } from '../data/corpus.js';
import { loadCorpora } from '../data/mixture.js';
import { loadSplit } from '../data/splits.js';
import { SerError } from '../errors.js';
import { type CalibratedPart, calibratedPart, calibrationJson, fittedTemperature, temperedProbabilities } from '../eval/calibration.js';
import { type EvaluationReport, toJson } from '../eval/index.js';
import { extractFeatures, extractUtteranceLogMels } from '../data/index.js';
import { utteranceWindows } from '../features/utterance.js';
import { readHistory } from '../train/checkpoint.js';
import { exampleSpectrograms, writeRunReport, writeTestPredictions } from '../train/run.js';
import { RunModel, type WindowScores, scoreWindows } from './inference.js';
import { writeFileAtomic } from '../io/atomic.js';
import { acquireRunLock } from '../io/run-lock.js';
import { rebuildModelOnnx } from '../model/ensemble.js';
import { perCorpusReports } from '../train/per-corpus.js';
import { METRICS_FILE, MODEL_FILE, REPORT_FILE, type RunConfig, SPLIT_FILE, configLabelSpace, configSources } from '../train/run-config.js';
import { readTrainedRun, writeRunConfig } from '../train/run-dir.js';

export interface CalibrateOptions {
  threads?: number;
  /** Feature cache folder; null: none (default: src/data's default). */
  cacheDir?: string | null;
  /** Feature worker threads for the files not in the cache (src/io/worker-pool.ts); 0: none. */
  jobs?: number;
  /** Called as each recording's features are read from the cache or computed (validation part, then test part). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Set this temperature instead of fitting one, e.g. one fitted on a twin of the run that had a validation part
   * (a final fit with `--validation-fraction 0` has none). The validation part, if any, is scored at it too.
   */
  temperature?: number;
}

export interface CalibrationResult {
  runDir: string;
  /** The fitted (or given) temperature, now the run's config.json model.temperature. */
  temperature: number;
  /** 'validation': fitted on the validation part; 'given': CalibrateOptions.temperature. */
  fittedOn: 'validation' | 'given';
  /** The temperature the run had before (undefined: none). */
  previous: number | undefined;
  /** The validation part (the fit's data); null when a given temperature is set on a run without one. */
  validation: CalibratedPart | null;
  /** The test part (never used by the fit); null when the run has none. */
  test: CalibratedPart | null;
  /** Recordings of the split's parts not found in the run's corpora any more, or whose audio could not be used. */
  missing: number;
}

/** Fits the run's temperature on its validation part (or sets a given one) and writes it into the run (see the module comment). */
export async function calibrateRun(runDir: string, options: CalibrateOptions = {}): Promise<CalibrationResult> {
  const dir = resolve(runDir);
  const given = options.temperature;
  if (given !== undefined && !(given > 0 && Number.isFinite(given))) {
    throw new SerError('EARG', 'calibrate', `the temperature must be a positive finite number (${given} given)`);
  }
  // A folder that is not a trained run: its own error (which file, what to do) before the lock is written there. The
  // run is read again under the lock: a training that held it may have rewritten model.onnx in between.
  readTrainedRun(dir);
  const lock = acquireRunLock(dir, 'calibrate');
  try {
    const { config, model: bytes } = readTrainedRun(dir);
    const members = config.ensemble?.members.length;
    const { temperature: previous, ...untempered } = config.model;
    const parts = loadSplit(join(dir, SPLIT_FILE)).parts;
    if (parts.validation.length === 0 && given === undefined) {
      throw new SerError(
        'EDATA',
        'calibrate',
        `${dir}: its split has no validation part to fit a temperature on (a run trained with a validation part can be calibrated; or set one with --temperature T)`,
      );
    }
    const corpus = loadCorpora(configSources(config), { labels: configLabelSpace(config) }).utterances;
    const byId = new Map(corpus.map((u) => [u.id, u]));
    const utterancesOf = (ids: readonly string[]): Utterance[] => ids.flatMap((id) => byId.get(id) ?? []);
    const validation = utterancesOf(parts.validation);
    const test = utterancesOf(parts.test);
    if (validation.length === 0 && given === undefined) {
      throw new SerError(
        'EDATA',
        'calibrate',
        `${dir}: none of the ${parts.validation.length} validation recordings of its split.json is in its corpora (${configSources(config)
          .map((s) => s.path)
          .join(', ')}): are they where they were when it was trained?`,
      );
    }
    const base = await RunModel.fromBytes(dir, { ...config, model: untempered }, rebuildModelOnnx(bytes, untempered, members), {
      threads: options.threads,
    });
    let scored: { validation: WindowScores | null; test: WindowScores | null };
    try {
      const score = (utterances: Utterance[]): Promise<WindowScores> =>
        scoreWindows(base, utterances, {
          cacheDir: options.cacheDir,
          jobs: options.jobs,
          output: 'logits',
          onProgress: options.onProgress,
        });
      scored = {
        validation: validation.length > 0 ? await score(validation) : null,
        test: test.length > 0 ? await score(test) : null,
      };
    } finally {
      await base.release();
    }
    const labels = config.labels;
    const truthOf = (s: WindowScores): number[] => s.kept.map((u) => labels.indexOf(u.label));
    let temperature: number;
    if (given !== undefined) temperature = given;
    else {
      if (!scored.validation || scored.validation.kept.length === 0) {
        throw new SerError('EDATA', 'calibrate', `${dir}: none of the validation recordings could be used (their audio is unusable)`);
      }
      temperature = fittedTemperature(scored.validation.rows, scored.validation.counts, truthOf(scored.validation), labels.length);
    }
    const scoredPart = (s: WindowScores): CalibratedPart =>
      calibratedPart(
        s.rows,
        s.counts,
        truthOf(s),
        labels,
        temperature,
        s.kept.map((u) => u.speaker),
      );
    const result: CalibrationResult = {
      runDir: dir,
      temperature,
      fittedOn: given === undefined ? 'validation' : 'given',
      previous,
      validation: scored.validation && scored.validation.kept.length > 0 ? scoredPart(scored.validation) : null,
      test: scored.test && scored.test.kept.length > 0 ? scoredPart(scored.test) : null,
      missing: parts.validation.length + parts.test.length - (scored.validation?.kept.length ?? 0) - (scored.test?.kept.length ?? 0),
    };
    const calibrated: RunConfig = { ...config, model: { ...untempered, temperature } };
    writeFileAtomic(join(dir, MODEL_FILE), rebuildModelOnnx(bytes, calibrated.model, members));
    writeRunConfig(dir, calibrated);
    if (result.test && scored.test) {
      updateMetrics(dir, calibrated, result, scored.test);
      await rewriteReport(dir, calibrated, result.test.calibrated, scored.test, options);
    }
    return result;
  } finally {
    lock.release();
  }
}

/**
 * metrics.json's test scores replaced by the calibrated model's, with the fit's record, and predictions.csv written
 * at the temperature (when the run has a metrics.json: a trained run).
 */
function updateMetrics(dir: string, config: RunConfig, result: CalibrationResult, test: WindowScores): void {
  const path = join(dir, METRICS_FILE);
  if (!existsSync(path) || !result.test) return;
  const metrics = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const labels = config.labels;
  const probabilities = Float32Array.from(temperedProbabilities(test.rows, test.counts, labels.length, result.temperature));
  const y = Int32Array.from(test.kept, (u) => labels.indexOf(u.label));
  const perCorpus = perCorpusReports(test.kept, y, probabilities, labels, config.data.corpora?.map((c) => c.tag) ?? []);
  const updated = {
    ...metrics,
    ...toJson(result.test.calibrated),
    ...(Object.keys(perCorpus).length > 0
      ? { per_corpus: Object.fromEntries(Object.entries(perCorpus).map(([tag, r]) => [tag, toJson(r)])) }
      : {}),
    calibration: calibrationJson(result.temperature, result.validation, result.test, result.fittedOn),
  };
  writeFileAtomic(path, JSON.stringify(updated, null, 2) + '\n');
  writeTestPredictions(dir, test.kept, y, probabilities, labels);
}

/**
 * report.html and its figures written again for the calibrated model (train/run.ts writeRunReport): the test part's
 * scores at the temperature, and the example spectrograms (the first test recording of each class, its first window)
 * with the calibrated model's predictions. Only for a run that has a report (ser ensemble writes none).
 */
async function rewriteReport(
  dir: string,
  config: RunConfig,
  report: EvaluationReport,
  test: WindowScores,
  options: CalibrateOptions,
): Promise<void> {
  if (!existsSync(join(dir, REPORT_FILE))) return;
  const split = loadSplit(join(dir, SPLIT_FILE));
  const metrics = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8')) as { best_epoch?: number };
  const { labels, model } = config;
  const probabilities = Float32Array.from(temperedProbabilities(test.rows, test.counts, labels.length, config.model.temperature ?? 1));
  const picked = labels.flatMap((label) => {
    const i = test.kept.findIndex((u) => u.label === label);
    return i < 0 ? [] : [i];
  });
  const utterances = picked.map((i) => test.kept[i] as Utterance);
  const examples = await firstWindows(config, utterances, options);
  const kept = picked.filter((_, k) => examples.kept.has(utterances[k] as Utterance));
  const rows = new Float32Array(kept.length * labels.length);
  for (const [k, i] of kept.entries()) rows.set(probabilities.subarray(i * labels.length, (i + 1) * labels.length), k * labels.length);
  const y = Int32Array.from(kept, (i) => labels.indexOf((test.kept[i] as Utterance).label));
  await writeRunReport(dir, config, split, {
    counts: { train: split.parts.train.length, validation: split.parts.validation.length, test: split.parts.test.length },
    history: readHistory(dir),
    bestEpoch: metrics.best_epoch ?? null,
    report,
    spectrograms: exampleSpectrograms(
      kept.map((i) => test.kept[i] as Utterance),
      { x: examples.x, y, windows: new Int32Array(kept.length).fill(1) },
      rows,
      labels,
      { ...model, axes: config.frontEnd },
    ),
  });
}

/** The first input window of each of `utterances` as the model sees it ([kept, nMels, frames]), and which were kept. */
async function firstWindows(
  config: RunConfig,
  utterances: readonly Utterance[],
  options: CalibrateOptions,
): Promise<{ x: Float32Array; kept: Set<Utterance> }> {
  const { cacheDir } = options;
  if (!config.recipe) {
    const extracted = await extractFeatures(utterances, {
      frontEnd: config.frontEnd,
      durationS: config.durationS,
      cacheDir,
      jobs: 0,
      screen: true,
    });
    return { x: extracted.features, kept: new Set(extracted.kept) };
  }
  const recipe = config.recipe;
  const extracted = await extractUtteranceLogMels(utterances, {
    frontEnd: config.frontEnd,
    maxS: recipe.input.maxS,
    cacheDir,
    jobs: 0,
    screen: true,
  });
  const clip = config.model.nMels * config.model.frames;
  const x = new Float32Array(extracted.kept.length * clip);
  extracted.logMels.forEach((logMel, k) => {
    x.set(utteranceWindows(logMel, config.model.frames, recipe.input, config.frontEnd.topDb).windows.subarray(0, clip), k * clip);
  });
  return { x, kept: new Set(extracted.kept) };
}
