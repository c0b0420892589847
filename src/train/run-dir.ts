/** A run directory's config.json and model.onnx on disk (run-config.ts: what they hold and how config.json is checked). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CONFIG_FILE, MODEL_FILE, type RunConfig, checkRunConfig } from './run-config.js';

export function writeRunConfig(runDir: string, config: RunConfig): void {
  writeFileAtomic(join(runDir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/** Reads and checks `RUN_DIR/config.json`; errors say what is missing and what to do. */
export function readRunConfig(runDir: string): RunConfig {
  if (!existsSync(runDir)) throw new SerError('EIO', 'run', `${runDir}: no such run directory (train one with: ser train --out ${runDir})`);
  const path = join(runDir, CONFIG_FILE);
  if (!existsSync(path)) {
    throw new SerError('EIO', 'run', `${runDir}: no ${CONFIG_FILE}; not a run directory made by 'ser train --out DIR'`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new SerError('EFORMAT', 'run', `${path}: not valid JSON (${(error as Error).message})`);
  }
  return checkRunConfig(parsed, path);
}

/**
 * A finished run's config.json and model.onnx bytes (what inference and fine-tuning load); errors name the folder
 * and, for a run without its model yet, how to finish it.
 */
export function readTrainedRun(runDir: string): { config: RunConfig; model: Uint8Array } {
  const config = readRunConfig(runDir);
  const modelPath = join(runDir, MODEL_FILE);
  if (!existsSync(modelPath)) {
    throw new SerError(
      'EIO',
      'run',
      `${runDir}: no ${MODEL_FILE}; the model is exported when training ends (resume an interrupted run with: ser train --out ${runDir} --resume)`,
    );
  }
  return { config, model: readFileSync(modelPath) };
}
