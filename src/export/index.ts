/**
 * `ser export`: a run's model as a standalone ONNX file. Plain: the run's model.onnx (log-mel windows in). End to
 * end: the waveform in (end-to-end.ts), for any ONNX runtime without our front end.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { defaultModelDir } from '../infer/inference.js';
import { MODEL_FILE } from '../train/run-config.js';
import { readRunConfig } from '../train/run-dir.js';
import { endToEndModel } from './end-to-end.js';

export { END_TO_END_IO, endToEndModel } from './end-to-end.js';

/** Writes the model of `runDir` (default: the shipped model) to `out`; returns the bytes written. */
export function exportModel(runDir: string | undefined, out: string, options: { endToEnd?: boolean } = {}): number {
  const dir = resolve(runDir ?? defaultModelDir());
  const config = readRunConfig(dir);
  const model = new Uint8Array(readFileSync(join(dir, MODEL_FILE)));
  const bytes = options.endToEnd ? endToEndModel(model, config) : model;
  writeFileAtomic(out, bytes);
  return bytes.byteLength;
}
