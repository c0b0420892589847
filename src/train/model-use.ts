/**
 * What using a trained run's model needs, without the file system (so src/web can use it in browsers): checking
 * a parsed config.json, turning one row of model.onnx's 'probabilities' into a labelled prediction, and
 * classifying a long recording window by window.
 */
import { SerError } from '../errors.js';
import { samplesFor } from '../features/config.js';
import { clipLogMel } from '../features/fixed-length.js';
import type { LogMelFrontEnd } from '../features/front-end.js';
import type { RunConfig } from './run-config.js';

/** Clips per model run when one clip is classified at a time (src/web). */
export const MODEL_BATCH = 1;

/** Checks a parsed config.json; `source` names it in errors. */
export function checkRunConfig(config: unknown, source: string): RunConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new SerError('EFORMAT', 'run', `${source}: not a speech-emotion run config (a JSON object expected)`);
  }
  const run = config as Partial<RunConfig>;
  const missing = (['model', 'frontEnd', 'durationS', 'labels', 'hyper', 'seed', 'data', 'split'] as const).filter((key) => run[key] === undefined);
  if (run.format !== 'speech-emotion run' || missing.length > 0) {
    throw new SerError('EFORMAT', 'run', `${source}: not a speech-emotion run config` + (missing.length ? ` (missing ${missing.join(', ')})` : ''));
  }
  return run as RunConfig;
}

/** The most probable class and every class's probability. */
export interface LabelledPrediction {
  label: string;
  probabilities: Record<string, number>;
}

/** `row` [labels.length] probabilities (the model's output for one clip) as a LabelledPrediction. */
export function labelPrediction(row: ArrayLike<number>, labels: readonly string[]): LabelledPrediction {
  let best = 0;
  for (let c = 1; c < labels.length; c++) if ((row[c] as number) > (row[best] as number)) best = c;
  return { label: labels[best] as string, probabilities: Object.fromEntries(labels.map((label, c) => [label, row[c] as number])) };
}

/** One window of a recording and its prediction. */
export interface SegmentPrediction extends LabelledPrediction {
  /** Window start and end in seconds (the end is capped at the recording's length). */
  startS: number;
  endS: number;
}

/** A whole recording: the label of its mean probabilities over the windows, and each window's prediction. */
export interface SegmentedPrediction extends LabelledPrediction {
  segments: SegmentPrediction[];
}

/**
 * Window starts (in samples) for classifying a recording of `length` samples in windows of `window` samples
 * every `hop` samples: 0, hop, 2 hop, ... keeping a window only while at least half of it is audio (the first
 * always: a recording shorter than the window is one zero-padded window, as in training).
 */
export function segmentStarts(length: number, window: number, hop: number): number[] {
  if (!(Number.isInteger(window) && window > 0 && Number.isInteger(hop) && hop > 0)) {
    throw new SerError('EARG', 'predict', `window and hop must be positive numbers of samples (${window}, ${hop} given)`);
  }
  const starts = [0];
  for (let start = hop; start + window / 2 <= length; start += hop) starts.push(start);
  return starts;
}

/** The model on `count` clips' log-mels ([count, nMels, frames] row-major) -> probabilities [count, nClasses]. */
export type ClipProbabilities = (mels: Float32Array, count: number) => Promise<Float32Array>;

/**
 * Classifies mono `samples` (at the front end's rate) window by window: windows of the run's clip length
 * (config.durationS) every `hopS` seconds (default: the clip length, no overlap), each featurised exactly as a
 * training clip (clipLogMel) and run through `probabilities` up to `batch` windows per call.
 */
export async function classifySegments(
  samples: Float32Array,
  frontEnd: LogMelFrontEnd,
  config: Pick<RunConfig, 'durationS' | 'labels'>,
  probabilities: ClipProbabilities,
  options: { hopS?: number; batch?: number } = {},
): Promise<SegmentedPrediction> {
  const hopS = options.hopS ?? config.durationS;
  if (!(hopS > 0 && Number.isFinite(hopS))) throw new SerError('EARG', 'predict', `the hop must be a positive number of seconds (${hopS} given)`);
  const rate = frontEnd.config.sampleRateHz;
  const window = samplesFor(config.durationS, frontEnd.config);
  const starts = segmentStarts(samples.length, window, Math.max(1, samplesFor(hopS, frontEnd.config)));
  const batch = Math.max(1, options.batch ?? 1);
  const classes = config.labels.length;
  const segments: SegmentPrediction[] = [];
  const mean = new Float64Array(classes);
  for (let first = 0; first < starts.length; first += batch) {
    const chunk = starts.slice(first, first + batch);
    const mels = chunk.map((start) => clipLogMel(frontEnd, samples, config.durationS, start / rate));
    const clip = mels[0]?.length ?? 0;
    const joined = new Float32Array(chunk.length * clip);
    for (const [i, mel] of mels.entries()) joined.set(mel, i * clip);
    const rows = await probabilities(joined, chunk.length);
    chunk.forEach((start, i) => {
      const row = rows.subarray(i * classes, (i + 1) * classes);
      for (let c = 0; c < classes; c++) mean[c]! += row[c] as number;
      segments.push({ startS: start / rate, endS: Math.min(start + window, samples.length) / rate, ...labelPrediction(row, config.labels) });
    });
  }
  return { ...labelPrediction(Array.from(mean, (v) => v / segments.length), config.labels), segments };
}
