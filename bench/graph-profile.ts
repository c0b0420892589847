/**
 * Where the time goes in a graph run by ONNX Runtime: profiles an ONNX model (a file, or the paper-size CNN-TM
 * training step built by src/model) with ORT's profiler and prints kernel time per op type and the slowest
 * nodes, skipping the first (warm-up) run. Inputs are filled with deterministic values (int64: zeros).
 *   npx tsx bench/graph-profile.ts [model.onnx | --train-step] [--runs 4] [--opt extended|all] [--top 30] [--spin] [--nchwc] [--time-only] [--real-input]
 * (--nchwc: the training step serialised with toOnnx({nchwcBlock: nchwcBlockSize()}); --time-only: no profiler, only
 * the best and median wall time per run, how docs/benchmark-log.md times the training graph step by step; --real-input,
 * training step only: what the trainer feeds, i.e. the log-mels of the first 32 embedded RAVDESS clips, the
 * seeded initial weights and seeded dropout masks (AdamW moments and scalars as without it) instead of sin waves,
 * on which max pooling's branches predict well and the step looks ~15% cheaper than on real data)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { join } from 'node:path';
import { extractFeatures, loadCorpus } from '../src/data/index.js';
import { toOnnx } from '../src/graph/index.js';
import { packageRoot } from '../src/io/paths.js';
import { DROPOUT_MASK, DropoutMaskGenerator, dropoutMaskInputs } from '../src/nn/dropout.js';
import { buildTrainGraph } from '../src/model/train-graph.js';
import { PAPER_CNN_TM } from '../src/model/config.js';
import { initialState } from '../src/model/weights.js';
import { type HostTensor, createSession, nchwcBlockSize } from '../src/runtime/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const runs = Number(flag('--runs', '4'));
const top = Number(flag('--top', '30'));
const optimizationLevel = flag('--opt', 'all') as 'all' | 'extended';
const modelPath = args.find((a) => a.endsWith('.onnx'));

let bytes: Uint8Array;
const realFeeds: Record<string, HostTensor> = {};
if (modelPath) bytes = readFileSync(modelPath);
else {
  const nchwcBlock = args.includes('--nchwc') ? await nchwcBlockSize() : 0;
  const graph = buildTrainGraph(PAPER_CNN_TM, { batch: 32 });
  bytes = toOnnx(graph, { nchwcBlock });
  writeFileSync('/tmp/cnn-tm-train-step.onnx', bytes);
  if (args.includes('--real-input')) {
    const corpus = loadCorpus({ dataset: 'csv', path: join(packageRoot(), 'assets', 'corpus', 'manifest.csv') });
    const clips = corpus.utterances.filter((u) => u.id.startsWith('ravdess/')).slice(0, 32);
    const { features } = await extractFeatures(clips, { cacheDir: null });
    realFeeds.mel = { data: features, shape: [32, 1, PAPER_CNN_TM.nMels, PAPER_CNN_TM.frames] };
    const targets = new Float32Array(32 * PAPER_CNN_TM.nClasses);
    for (let i = 0; i < 32; i++) targets[i * PAPER_CNN_TM.nClasses + (i % PAPER_CNN_TM.nClasses)] = 1;
    realFeeds.targets = { data: targets, shape: [32, PAPER_CNN_TM.nClasses] };
    for (const [name, tensor] of initialState(PAPER_CNN_TM, 0)) realFeeds[name] = tensor;
    const masks = new DropoutMaskGenerator(1);
    for (const input of dropoutMaskInputs(graph)) {
      const data = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
      masks.fill(data, input.ratio);
      realFeeds[input.name] = { data, shape: input.shape };
    }
  }
}

// Feeds from the model's declared inputs: floats small and smooth, int64 zeros, 'step' 1.
const model = onnxProto.onnx.ModelProto.decode(bytes);
const feeds: Record<string, HostTensor> = {};
for (const input of model.graph?.input ?? []) {
  const tensorType = input.type?.tensorType;
  const shape = (tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue));
  const n = shape.reduce((a, b) => a * b, 1);
  const name = String(input.name);
  if (realFeeds[name]) {
    feeds[name] = realFeeds[name];
    continue;
  }
  if (Object.keys(realFeeds).length > 0 && name.startsWith(DROPOUT_MASK)) throw new Error(`no mask for ${name}`);
  if (tensorType?.elemType === 7) feeds[name] = { data: new BigInt64Array(n), shape };
  else if (tensorType?.elemType === 11) feeds[name] = { data: Float64Array.from({ length: n }, () => (name === 'lr' ? 1e-4 : 1)), shape };
  else feeds[name] = { data: Float32Array.from({ length: n }, (_, i) => (name.includes('var') ? 1 : 0.1 * Math.sin(i))), shape };
}

const timeOnly = args.includes('--time-only');
const session = await createSession(bytes, {
  threads: 2,
  optimizationLevel,
  spinning: args.includes('--spin'),
  ...(timeOnly ? {} : { profilePrefix: '/tmp/graph-profile' }),
});
const wall: number[] = [];
for (let i = 0; i < runs + 1; i++) {
  const t0 = performance.now();
  await session.run(feeds);
  wall.push(performance.now() - t0);
}
if (timeOnly) {
  const timed = wall.slice(1).sort((a, b) => a - b);
  console.log(
    `wall ms per run over ${runs} runs after a warm-up: best ${timed[0]?.toFixed(0)}, median ${timed[Math.floor(timed.length / 2)]?.toFixed(0)}`,
  );
  await session.release();
  process.exit(0);
}
const file = session.endProfiling();
await session.release();

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}
const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
const warm = (modelRuns[0]?.ts ?? 0) + (modelRuns[0]?.dur ?? 0);
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < warm) continue;
  const ms = e.dur / 1000 / runs;
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + ms);
  const node = `${op} ${e.name.replace('_kernel_time', '')}`;
  byNode.set(node, (byNode.get(node) ?? 0) + ms);
  total += ms;
}
const rows = (m: Map<string, number>, k: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, ms]) => `${ms.toFixed(1).padStart(8)} ms  ${name}`)
    .join('\n');
console.log(`wall ms per run (first = warm-up): ${wall.map((t) => t.toFixed(0)).join(' ')}; kernel time ${total.toFixed(0)} ms/run`);
console.log(`by op type:\n${rows(byOp, 20)}\nslowest nodes:\n${rows(byNode, top)}\nprofile: ${file}`);
