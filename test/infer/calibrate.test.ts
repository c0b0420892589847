/**
 * `ser calibrate` (src/infer/calibrate.ts) on a small run trained here (test/train/small-runs.ts): the fitted
 * temperature is in config.json and model.onnx, so `ser predict`'s probabilities are the untempered model's
 * softmax(ln p / T) with the same classes; calibrating again gives the same bytes; metrics.json holds the test part at
 * T; ensembles and fine-tuning start from the untempered members; a split without a validation part is refused.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { type Prediction, predictFiles } from '../../src/infer/inference.js';
import { calibrateRun } from '../../src/infer/calibrate.js';
import { ensembleRuns } from '../../src/train/ensemble.js';
import { fineTuneSetup, readInitialModel } from '../../src/train/fine-tune.js';
import { PAPER_RECIPE } from '../../src/train/recipe.js';
import { readRunConfig } from '../../src/train/run-dir.js';
import { smallRun, twoSmallRuns } from '../train/small-runs.js';

const { scratch, skip, ...runs } = await twoSmallRuns('ser-calibrate-');
const testFiles = ['01', '03', '04', '05'].flatMap((e) =>
  ['01', '02'].map((s) => join(scratch, 'ravdess', 'Actor_05', `03-01-${e}-01-${s}-01-05.wav`)),
);

/** A copy of run `dir` to calibrate (the original stays untempered). */
function copyRun(dir: string, name: string): string {
  const out = join(scratch, name);
  cpSync(dir, out, { recursive: true });
  return out;
}

/**
 * `ser predict`'s probabilities of the test files from run `calibrated` are those of run `untempered` at temperature
 * T: softmax(ln p / T) (one 1 s window per recording, so softmax(logits / T); for an ensemble p is the members'
 * mean, whose log the ensemble tempers), with the same class.
 */
async function assertTempered(untemperedRun: string, calibratedRun: string, temperature: number): Promise<void> {
  const of = async (dir: string) => (await predictFiles(dir, testFiles, { threads: 1, jobs: 0 })) as Prediction[];
  const [untempered, calibrated] = [await of(untemperedRun), await of(calibratedRun)];
  untempered.forEach((p, i) => {
    const scaled = Object.entries(p.probabilities).map(([label, v]) => [label, Math.exp(Math.log(v) / temperature)] as const);
    const sum = scaled.reduce((total, [, v]) => total + v, 0);
    for (const [label, v] of scaled) {
      assert.ok(Math.abs(calibrated[i]!.probabilities[label]! - v / sum) < 1e-5, `${testFiles[i]}, ${label}`);
    }
    assert.equal(calibrated[i]!.label, p.label);
  });
}

test("the calibrated model's probabilities are the untempered ones at temperature T, its classes the same", { skip }, async () => {
  const run = copyRun(runs.a, 'calibrated');
  const result = await calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0 });
  assert.equal(readRunConfig(run).model.temperature, result.temperature);
  assert.ok(result.temperature !== 1, 'a one-epoch model is not calibrated at T = 1: the test would show nothing');
  assert.equal(result.fittedOn, 'validation');
  assert.ok(
    result.validation!.calibrated.crossEntropy! <= result.validation!.untempered.crossEntropy!,
    'the fit lowers the validation loss',
  );
  assert.equal(result.validation!.calibrated.accuracy, result.validation!.untempered.accuracy);
  await assertTempered(runs.a, run, result.temperature);
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
  assert.equal(metrics.calibration.temperature, result.temperature);
  assert.equal(metrics.ece, result.test!.calibrated.calibration!.ece);
  assert.deepEqual(metrics.calibration.test.ece, [result.test!.untempered.calibration!.ece, result.test!.calibrated.calibration!.ece]);
  // report.html written again at T: its reliability figure's ECE, the temperature in its run table, the examples kept.
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  assert.ok(html.includes(`Reliability (ECE ${metrics.ece.toFixed(3)})`), 'the calibrated ECE in report.html');
  assert.match(html, new RegExp(`temperature</th><td class="text">${result.temperature}<`));
  assert.equal((html.match(/<img /g) ?? []).length, (readFileSync(join(runs.a, 'report.html'), 'utf8').match(/<img /g) ?? []).length);

  const bytes = readFileSync(join(run, 'model.onnx'));
  const again = await calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0 });
  assert.equal(again.temperature, result.temperature);
  assert.equal(again.previous, result.temperature);
  assert.ok(readFileSync(join(run, 'model.onnx')).equals(bytes), 'calibrating again starts from the untempered weights');
});

test('ensembles and fine-tuning start from the untempered model; an ensemble calibrates as one model', { skip }, async () => {
  const run = copyRun(runs.a, 'calibrated-member');
  await calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0 });
  const { config } = ensembleRuns([run, runs.b], join(scratch, 'ensemble-calibrated'));
  ensembleRuns([runs.a, runs.b], join(scratch, 'ensemble-untempered'));
  assert.equal(config.model.temperature, undefined);
  assert.ok(
    readFileSync(join(scratch, 'ensemble-calibrated', 'model.onnx')).equals(
      readFileSync(join(scratch, 'ensemble-untempered', 'model.onnx')),
    ),
    "a calibrated member's temperature is not in the ensemble",
  );
  // An ensemble calibrated: the log of its members' mean, tempered.
  const ensemble = copyRun(join(scratch, 'ensemble-untempered'), 'ensemble-tempered');
  const fitted = await calibrateRun(ensemble, { cacheDir: null, threads: 1, jobs: 0 });
  assert.equal(readRunConfig(ensemble).ensemble?.members.length, 2);
  await assertTempered(join(scratch, 'ensemble-untempered'), ensemble, fitted.temperature);
  const initial = readInitialModel(run);
  assert.ok(initial.config.model.temperature !== undefined);
  assert.equal(fineTuneSetup(initial, 4, PAPER_RECIPE).model.temperature, undefined);
});

test('a run whose split has no validation part, and a folder that is no run, are refused, saying so', { skip }, async () => {
  const run = copyRun(runs.b, 'no-validation');
  const splitPath = join(run, 'split.json');
  const split = JSON.parse(readFileSync(splitPath, 'utf8'));
  split.parts.validation = [];
  writeFileSync(splitPath, JSON.stringify(split));
  await assert.rejects(
    calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0 }),
    (e: unknown) => e instanceof SerError && e.code === 'EDATA' && /no validation part to fit a temperature on/.test(e.message),
  );
  assert.equal(readRunConfig(run).model.temperature, undefined, 'nothing written when refused');
  await assert.rejects(
    calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0, temperature: -1 }),
    (e: unknown) =>
      e instanceof SerError && e.code === 'EARG' && /temperature must be a positive finite number \(-1 given\)/.test(e.message),
  );
  const nowhere = join(scratch, 'nowhere');
  await assert.rejects(
    calibrateRun(nowhere),
    (e: unknown) => e instanceof SerError && e.code === 'EIO' && /nowhere: no such run directory/.test(e.message),
  );
  assert.ok(!existsSync(nowhere), 'no folder or lock file made for a run that does not exist');
});

test('a given temperature is set without a fit, also on a run with no validation part, and recorded as given', { skip }, async () => {
  const run = copyRun(runs.a, 'given-temperature');
  const splitPath = join(run, 'split.json');
  const split = JSON.parse(readFileSync(splitPath, 'utf8'));
  split.parts.train.push(...split.parts.validation);
  split.parts.validation = [];
  writeFileSync(splitPath, JSON.stringify(split));
  const result = await calibrateRun(run, { cacheDir: null, threads: 1, jobs: 0, temperature: 1.7 });
  assert.deepEqual([result.temperature, result.fittedOn, result.validation], [1.7, 'given', null]);
  assert.equal(readRunConfig(run).model.temperature, 1.7);
  await assertTempered(runs.a, run, 1.7);
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
  assert.deepEqual([metrics.calibration.temperature, metrics.calibration.fitted_on, metrics.calibration.validation], [1.7, 'given', null]);
  assert.equal(metrics.ece, result.test!.calibrated.calibration!.ece);
});

test('ser train --calibrate fits the temperature ser calibrate fits on the same weights, and reports at it', { skip }, async () => {
  const trained = await smallRun(scratch, 'trained-calibrated', 1, { calibrate: true }); // run a's seed: the same weights
  const copy = copyRun(runs.a, 'calibrated-after');
  const after = await calibrateRun(copy, { cacheDir: null, threads: 1, jobs: 0 });
  const temperature = readRunConfig(trained).model.temperature!;
  // Training's logits (its own graph) and inference's (model.onnx) differ in float rounding: at most one grid step apart.
  assert.ok(Math.abs(Math.log(temperature / after.temperature)) <= Math.log(1.01) + 1e-4, `${temperature} vs ${after.temperature}`);
  const metrics = JSON.parse(readFileSync(join(trained, 'metrics.json'), 'utf8'));
  assert.equal(metrics.calibration.temperature, temperature);
  assert.equal(metrics.calibration.test.ece[1], metrics.ece);
  assert.equal(readRunConfig(trained).hyper.calibrate, true);
  // Its model.onnx: run a's probabilities (the same weights, untempered) at the temperature training fitted.
  await assertTempered(runs.a, trained, temperature);
});
