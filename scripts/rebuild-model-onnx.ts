/**
 * Rebuilds a run's model.onnx from the weights it holds with the current eval-graph builder (src/model/cnn-tm.ts
 * evalOnnxState, evalOnnx), for when the graph changes but not the parameters (e.g. the numerically steadier input
 * normalisation): the weights, config and metrics of the run stay as they are. test/model/shipped-model.test.ts
 * fails when the shipped default model needs this. Usage: tsx scripts/rebuild-model-onnx.ts RUN_DIR
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/index.js';
import { evalOnnx, evalOnnxState } from '../src/model/cnn-tm.js';
import { MODEL_FILE } from '../src/train/run-config.js';
import { readRunConfig } from '../src/train/run-dir.js';

const runDir = process.argv[2];
if (!runDir) {
  console.error('usage: npx tsx scripts/rebuild-model-onnx.ts RUN_DIR (e.g. assets/models/default)');
  process.exit(2);
}
try {
  const file = join(runDir, MODEL_FILE);
  const config = readRunConfig(runDir).model;
  const state = evalOnnxState(new Uint8Array(readFileSync(file)), config);
  const bytes = evalOnnx(config, state);
  writeFileAtomic(file, bytes);
  console.log(`${file}: rebuilt from ${state.size} weight tensors (${bytes.byteLength} bytes)`);
} catch (error) {
  // SerErrors (and fs errors) say which file and what is wrong: their message, not a stack trace.
  const code = (error as { code?: string }).code;
  console.error(`rebuild-model-onnx: ${error instanceof Error ? error.message : String(error)}${code ? ` [${code}]` : ''}`);
  process.exit(1);
}
