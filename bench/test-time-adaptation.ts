/**
 * Two things a trained model could do at test time without labels, measured on speakers it never heard (issue 9):
 *
 * - test-time warps: class log-probabilities averaged over the recording's log-mel rescaled in frequency (VTLP) or
 *   in frequency and time (speed) by each factor given (train/augment.ts rescaleLogMel), each warp's windows as
 *   `ser predict` makes them (its crops averaged first);
 * - AdaBN (Li et al. 2016, "Revisiting Batch Normalization for Practical Domain Adaptation"): every BatchNorm's
 *   statistics re-estimated on the test recordings' windows (CnnTmTrainer.recalibrateBatchNorm, the update_bn
 *   formula training uses after each epoch), weights unchanged, then scored as the plain model.
 *
 *   npx tsx bench/test-time-adaptation.ts [--model RUN_DIR] [--speakers ravdess/13,...,ravdess/18] [--threads 1]
 *
 * Default: the shipped model on RAVDESS actors 13-18 (its test speakers; ../shared/data beside the clone). Prints
 * accuracy, UAR and recall per class for: the plain model, each warp set, AdaBN.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { extractUtteranceLogMels } from '../src/data/index.js';
import { softmaxInto } from '../src/eval/probabilities.js';
import type { Spectrogram } from '../src/features/index.js';
import { utteranceWindows } from '../src/features/utterance.js';
import { packageRoot } from '../src/io/paths.js';
import { CnnTmTrainer } from '../src/model/trainer.js';
import { createSession } from '../src/runtime/index.js';
import { melAxisOf, rescaleLogMel } from '../src/train/augment.js';
import { readInitialModel } from '../src/train/fine-tune.js';
import { PAPER_RECIPE } from '../src/train/recipe.js';
import { heldOutUtterances, scoreRow } from './held-out-speakers.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    speakers: { type: 'string', default: ['13', '14', '15', '16', '17', '18'].map((a) => `ravdess/${a}`).join(',') },
    data: { type: 'string', default: `${packageRoot()}/../shared/data` },
    threads: { type: 'string', default: '1' },
  },
});
const threads = Number(args.threads);
const initial = readInitialModel(args.model === 'default' ? `${packageRoot()}/assets/models/default` : args.model);
const { config } = initial;
const recipe = config.recipe ?? PAPER_RECIPE;
const { nMels, frames } = config.model;
const labels = config.labels;
const wanted = new Set(args.speakers.split(','));
const utterances = heldOutUtterances(args.data, wanted);
const extracted = await extractUtteranceLogMels(utterances, { maxS: recipe.input.maxS, frontEnd: config.frontEnd });
const truth = extracted.kept.map((u) => labels.indexOf(u.label));
console.log(`${args.model} on ${extracted.kept.length} recordings of ${wanted.size} speakers`);

/** Mean over its windows of each recording's class log-probabilities, for the model bytes and log-mels given. */
async function logProbabilities(model: Uint8Array, logMels: readonly Spectrogram[]): Promise<Float64Array[]> {
  const session = await createSession(model, { threads });
  try {
    const out: Float64Array[] = [];
    for (const logMel of logMels) {
      const w = utteranceWindows(logMel, frames, recipe.input, config.frontEnd.topDb);
      const result = await session.run({ mel: { data: w.windows, shape: [w.count, 1, nMels, frames] } });
      const logits = result.logits?.data as Float32Array;
      const mean = new Float64Array(labels.length);
      for (let k = 0; k < w.count; k++) {
        const row = softmaxInto(logits.subarray(k * labels.length, (k + 1) * labels.length), new Float64Array(labels.length));
        for (let c = 0; c < labels.length; c++) mean[c]! += Math.log(Math.max(row[c] as number, 1e-12)) / w.count;
      }
      out.push(mean);
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Accuracy, UAR and recall per class of the summed log-probabilities of `sets`. */
function score(name: string, sets: readonly Float64Array[][]): void {
  const predicted = truth.map((_, i) => {
    const sum = labels.map((_, c) => sets.reduce((s, set) => s + ((set[i] as Float64Array)[c] as number), 0));
    return sum.indexOf(Math.max(...sum));
  });
  console.log(scoreRow(name, labels, truth, predicted));
}

const modelBytes = readFileSync(join(initial.dir, 'model.onnx'));
const axis = melAxisOf(config.frontEnd);
const warped = new Map<string, Float64Array[]>();
const at = async (frequency: number, time: number): Promise<Float64Array[]> => {
  const key = `${frequency}x${time}`;
  if (!warped.has(key)) {
    const logMels = extracted.logMels.map((m) =>
      frequency === 1 && time === 1 ? m : rescaleLogMel(m, { frequency, time }, axis, config.frontEnd),
    );
    warped.set(key, await logProbabilities(modelBytes, logMels));
  }
  return warped.get(key) as Float64Array[];
};
score('plain', [await at(1, 1)]);
for (const factors of [
  [0.95, 1, 1.05],
  [0.9, 1, 1.1],
]) {
  score(`VTLP warps ${factors.join(', ')}`, await Promise.all(factors.map((f) => at(f, 1))));
  score(`speed warps ${factors.join(', ')}`, await Promise.all(factors.map((f) => at(f, f))));
}

// AdaBN: BatchNorm statistics from the test recordings' windows, in a fixed shuffled order.
const windows = extracted.logMels.map((m) => utteranceWindows(m, frames, recipe.input, config.frontEnd.topDb));
const count = windows.reduce((n, w) => n + w.count, 0);
const x = new Float32Array(count * nMels * frames);
let offset = 0;
for (const w of windows) {
  x.set(w.windows, offset);
  offset += w.windows.length;
}
const trainer = await CnnTmTrainer.create(config.model, { batchSize: 32, lr: 1e-9, seed: 0, threads });
trainer.loadState(initial.weights);
const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ((a * 7919) % count) - ((b * 7919) % count));
const { batches } = await trainer.recalibrateBatchNorm(x, count, order);
score(`AdaBN (${batches} batches of 32 windows)`, [await logProbabilities(trainer.exportOnnx('dynamic'), extracted.logMels)]);
await trainer.release();
