/**
 * What using a trained run's model needs, without the file system (so src/web can use it in browsers): checking
 * a parsed config.json, and turning one row of model.onnx's 'probabilities' into a labelled prediction.
 */
import { SerError } from '../errors.js';
import type { RunConfig } from './run-config.js';

/** Clips per run of model.onnx: the graph has static shapes, and one clip at a time suits classifying single files. */
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
