/**
 * Would temperature scaling calibrate a trained model on speakers it never heard? (Guo et al. 2017: one scalar T,
 * probabilities softmax(logits / T), fitted by the mean cross-entropy on held-out recordings; the arg-max, hence
 * accuracy and UAR, does not change.)
 *
 *   npx tsx bench/temperature.ts [--model RUN_DIR] [--threads 1]
 *
 * T is fitted on the run's validation part (its split.json; the recordings early stopping used), by a grid of 1%
 * steps over T in [0.25, 8], and applied to its test part. Each window's probabilities are rescaled
 * (softmax(ln p / T) = softmax(logits / T)) before a recording's windows are averaged, as `ser predict` averages
 * them. Prints, for T = 1 and the fitted T, on both parts: mean cross-entropy, expected calibration error (15 bins)
 * and mean confidence (src/eval/metrics.ts). Default: the shipped model (validation: 16 speakers of the training
 * corpora; test: RAVDESS actors 13-18).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Utterance } from '../src/data/corpus.js';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { loadCorpora } from '../src/data/mixture.js';
import { loadSplit } from '../src/data/splits.js';
import { evaluate } from '../src/eval/index.js';
import { softmaxInto } from '../src/eval/probabilities.js';
import { RunModel, defaultModelDir } from '../src/infer/inference.js';
import { configLabelSpace, configSources } from '../src/train/run-config.js';
import { joinedWindows } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    threads: { type: 'string', default: '1' },
  },
});
const model = await RunModel.load(args.model === 'default' ? defaultModelDir() : args.model, { threads: Number(args.threads) });
const { config } = model;
const labels = config.labels;
const recipe = config.recipe;
if (!recipe) throw new Error(`${model.runDir}: a run without a recipe`);
const split = loadSplit(join(model.runDir, 'split.json')).parts;
const corpus = loadCorpora(configSources(config), { labels: configLabelSpace(config) }).utterances;

/** Per-window probabilities of a part's recordings, their window counts and true classes. */
async function windowsOf(ids: readonly string[]): Promise<{ windows: Float32Array; counts: number[]; truth: number[] }> {
  const wanted = new Set(ids);
  const utterances: Utterance[] = corpus.filter((u) => wanted.has(u.id));
  if (utterances.length === 0) throw new Error(`${model.runDir}: its split has no recordings in this part (a run without validation?)`);
  const extracted = await extractUtteranceLogMels(utterances, { maxS: recipe!.input.maxS, frontEnd: config.frontEnd });
  const { windows, counts } = joinedWindows(extracted.logMels, config);
  return {
    windows: await model.probabilities(
      windows,
      counts.reduce((a, b) => a + b, 0),
    ),
    counts,
    truth: extracted.kept.map((u) => labels.indexOf(u.label)),
  };
}

/** Recording probabilities at temperature T: each window softmax(ln p / T), then the mean over a recording's windows. */
function atTemperature(part: { windows: Float32Array; counts: number[] }, temperature: number): Float64Array {
  const k = labels.length;
  const out = new Float64Array(part.counts.length * k);
  const scaled = new Float64Array(k);
  const row = new Float64Array(k);
  let w = 0;
  part.counts.forEach((count, r) => {
    for (let i = 0; i < count; i++, w++) {
      for (let c = 0; c < k; c++) scaled[c] = Math.log(Math.max(part.windows[w * k + c]!, 1e-30)) / temperature;
      softmaxInto(scaled, row);
      for (let c = 0; c < k; c++) out[r * k + c]! += row[c]! / count;
    }
  });
  return out;
}

function scored(part: { windows: Float32Array; counts: number[]; truth: number[] }, temperature: number) {
  const probabilities = atTemperature(part, temperature);
  // Float64 rounding can leave a row summing to 1 +- 1e-16: evaluate() accepts 1e-3.
  return evaluate(part.truth, null, labels, { probabilities });
}

const validation = await windowsOf(split.validation);
const test = await windowsOf(split.test);
let fitted = { temperature: 1, crossEntropy: Number.POSITIVE_INFINITY };
for (let temperature = 0.25; temperature <= 8; temperature *= 1.01) {
  const crossEntropy = scored(validation, temperature).crossEntropy!;
  if (crossEntropy < fitted.crossEntropy) fitted = { temperature, crossEntropy };
}
console.log(`${model.runDir}: validation ${validation.truth.length} recordings, test ${test.truth.length}`);
console.log('| part | T | accuracy | UAR | mean cross-entropy | ECE (15 bins) | mean confidence |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, part] of [
  ['validation', validation],
  ['test', test],
] as const) {
  for (const temperature of [1, fitted.temperature]) {
    const r = scored(part, temperature);
    const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
    console.log(
      `| ${name} | ${temperature.toFixed(2)} | ${pct(r.accuracy)} | ${pct(r.uar)} | ${r.crossEntropy!.toFixed(4)} | ` +
        `${r.calibration!.ece.toFixed(4)} | ${pct(r.calibration!.meanConfidence)} |`,
    );
  }
}
await model.release();
