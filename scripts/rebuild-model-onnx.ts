/**
 * Rebuilds a run's model.onnx from the weights it holds with the current eval-graph builder (src/model/cnn-tm.ts),
 * for when the graph changes but not the parameters (e.g. the numerically steadier input normalisation): the
 * weights, config and metrics of the run stay as they are. Usage: tsx scripts/rebuild-model-onnx.ts RUN_DIR
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { toOnnx } from '../src/graph/index.js';
import { writeFileAtomic } from '../src/io/index.js';
import type { NamedTensor } from '../src/io/safetensors.js';
import { SYMBOLIC_BATCH, buildEvalGraph } from '../src/model/cnn-tm.js';
import { MODEL_FILE } from '../src/train/run-config.js';
import { readRunConfig } from '../src/train/run-dir.js';

const runDir = process.argv[2];
if (!runDir) throw new Error('usage: tsx scripts/rebuild-model-onnx.ts RUN_DIR');
const file = join(runDir, MODEL_FILE);
const model = onnxProto.onnx.ModelProto.decode(readFileSync(file));
const state = new Map<string, NamedTensor>();
for (const init of model.graph?.initializer ?? []) {
  const name = (init.name ?? '').replace(/_\d+$/, ''); // toOnnx names constants <state name>_<index>
  if (init.dataType !== onnxProto.onnx.TensorProto.DataType.FLOAT || !init.rawData) continue;
  const raw = init.rawData;
  const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  state.set(name, { data, shape: (init.dims ?? []).map(Number) });
}
const config = readRunConfig(runDir).model;
const bytes = toOnnx(buildEvalGraph(config, state, SYMBOLIC_BATCH), { producer: 'speech-emotion CNN-TM', dynamicBatch: SYMBOLIC_BATCH });
writeFileAtomic(file, bytes);
console.log(`${file}: rebuilt from ${state.size} weight tensors (${bytes.byteLength} bytes)`);
