/**
 * Rebuilds a run's model.onnx (a single model or an ensemble) from the weights it holds with the current graph
 * builders (src/model/ensemble.ts rebuildModelOnnx), for when the graph changes but not the parameters (e.g. the
 * numerically steadier input normalisation): the weights, config and metrics of the run stay as they are. test/model/shipped-model.test.ts
 * fails when the shipped default model needs this. Usage: tsx scripts/rebuild-model-onnx.ts RUN_DIR
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/index.js';
import { rebuildModelOnnx } from '../src/model/ensemble.js';
import { MODEL_FILE } from '../src/train/run-config.js';
import { readRunConfig } from '../src/train/run-dir.js';

const runDir = process.argv[2];
if (!runDir) {
  console.error('usage: npx tsx scripts/rebuild-model-onnx.ts RUN_DIR (e.g. assets/models/default)');
  process.exit(2);
}
try {
  const file = join(runDir, MODEL_FILE);
  const config = readRunConfig(runDir);
  const members = config.ensemble?.members.length;
  const bytes = rebuildModelOnnx(new Uint8Array(readFileSync(file)), config.model, members);
  writeFileAtomic(file, bytes);
  console.log(`${file}: rebuilt${members === undefined ? '' : ` (an ensemble of ${members})`} (${bytes.byteLength} bytes)`);
} catch (error) {
  // SerErrors (and fs errors) say which file and what is wrong: their message, not a stack trace.
  const code = (error as { code?: string }).code;
  console.error(`rebuild-model-onnx: ${error instanceof Error ? error.message : String(error)}${code ? ` [${code}]` : ''}`);
  process.exit(1);
}
