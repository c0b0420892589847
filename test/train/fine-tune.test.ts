/**
 * Fine-tuning (src/train/fine-tune.ts, `ser train --init`): the starting weights are the shipped default model's,
 * output rows follow the new run's classes by name, settings that would not fit the weights are refused, and a
 * real run (16 RAVDESS clips from ../shared, stopped before its first epoch, resumed, one epoch at a tiny learning
 * rate) ends with weights next to the initial model's rather than random ones, with its LICENSE beside them.
 */
import assert from 'node:assert/strict';
import type { CnnTmConfig } from '../../src/model/config.js';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { defaultModelDir } from '../../src/infer/inference.js';
import { evalOnnxState } from '../../src/model/cnn-tm.js';
import { initialState } from '../../src/model/weights.js';
import { fineTuneSetup, fineTuneWeights, readInitialModel } from '../../src/train/fine-tune.js';
import { GENERALIZE_RECIPE, PAPER_RECIPE } from '../../src/train/recipe.js';
import type { RunConfig } from '../../src/train/run-config.js';
import { trainRun } from '../../src/train/run.js';
import { hasShared, maxAbsDiff, ravdessClassFolders } from '../helpers.js';

/** A model config without its temperature: what a run fine-tuned from it starts with. */
function untempered(model: CnnTmConfig): CnnTmConfig {
  const { temperature: _temperature, ...rest } = model;
  return rest;
}

const scratch = mkdtempSync(join(tmpdir(), 'ser-fine-tune-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const shipped = readInitialModel(defaultModelDir());
const D = shipped.config.model.dModel;
const row = (data: Float32Array, index: number) => Array.from(data.subarray(index * D, (index + 1) * D));

test("fineTuneWeights: every weight is the initial model's; output rows follow the new classes by name, new classes start from the seeded initialisation", () => {
  const labels = ['sad', 'calm', 'angry', 'fearful'];
  const setup = fineTuneSetup(shipped, labels.length, GENERALIZE_RECIPE);
  const start = fineTuneWeights(shipped, setup.model, labels, 7);
  assert.deepEqual(start.carried, ['sad', 'angry', 'fearful (fear)']);
  assert.deepEqual(start.fresh, ['calm']);
  for (const [name, tensor] of shipped.weights) {
    if (name.startsWith('fc.')) continue;
    assert.equal(start.weights.get(name)?.data, tensor.data, name);
  }
  const known = shipped.config.labels;
  const weight = start.weights.get('fc.weight')?.data as Float32Array;
  const bias = start.weights.get('fc.bias')?.data as Float32Array;
  const initialWeight = shipped.weights.get('fc.weight')?.data as Float32Array;
  const initialBias = shipped.weights.get('fc.bias')?.data as Float32Array;
  assert.deepEqual(start.weights.get('fc.weight')?.shape, [4, D]);
  assert.deepEqual(row(weight, 0), row(initialWeight, known.indexOf('sad')));
  assert.deepEqual(row(weight, 2), row(initialWeight, known.indexOf('angry')));
  assert.deepEqual(row(weight, 3), row(initialWeight, known.indexOf('fear')), "a synonym takes its emotion's row");
  assert.equal(bias[3], initialBias[known.indexOf('fear')]);
  assert.equal(bias[0], initialBias[known.indexOf('sad')]);
  assert.equal(bias[2], initialBias[known.indexOf('angry')]);
  const fresh = initialState(setup.model, 7);
  assert.deepEqual(row(weight, 1), row(fresh.get('fc.weight')?.data as Float32Array, 1));
  const freshBias = fresh.get('fc.bias')?.data as Float32Array;
  assert.equal(bias[1], freshBias[1]);
});

test("fineTuneSetup keeps the initial model's architecture, front end and clip length, and refuses another input normalisation or speaker normalisation", () => {
  const setup = fineTuneSetup(shipped, 4, GENERALIZE_RECIPE, 0.3);
  // The shipped model's temperature (ser calibrate) was fitted to its own outputs: the new run starts untempered.
  assert.ok(shipped.config.model.temperature !== undefined);
  assert.deepEqual(setup.model, { ...untempered(shipped.config.model), nClasses: 4, dropout: 0.3 });
  assert.deepEqual(setup.frontEnd, shipped.config.frontEnd);
  assert.equal(setup.durationS, shipped.config.durationS);
  assert.equal(fineTuneSetup(shipped, 4, GENERALIZE_RECIPE).model.dropout, shipped.config.model.dropout);
  assert.throws(
    () => fineTuneSetup(shipped, 4, PAPER_RECIPE),
    (error: unknown) => error instanceof SerError && error.code === 'EARG' && /per 'band'.*'none'.*--input-norm band/.test(error.message),
  );
  assert.throws(
    () => fineTuneSetup(shipped, 4, { ...GENERALIZE_RECIPE, speakerNorm: true }),
    (error: unknown) =>
      error instanceof SerError && error.code === 'EARG' && /without speaker-level input normalisation/.test(error.message),
  );
});

test('readInitialModel names a run directory without model.onnx, and one that does not exist', () => {
  const unfinished = join(scratch, 'unfinished');
  mkdirSync(unfinished);
  copyFileSync(join(defaultModelDir(), 'config.json'), join(unfinished, 'config.json'));
  assert.throws(
    () => readInitialModel(unfinished),
    (error: unknown) => error instanceof SerError && error.code === 'EIO' && error.message.includes(`${unfinished}: no model.onnx`),
  );
  assert.throws(
    () => readInitialModel(join(scratch, 'nowhere')),
    (error: unknown) => error instanceof SerError && error.code === 'EIO' && error.message.includes('no such run directory'),
  );
});

test('a fine-tuning run starts from the shipped model: config.json records it, the log names carried and new classes, the weights stay next to it', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  // Calm is unknown to the shipped model.
  const corpus = ravdessClassFolders(join(scratch, 'corpus'), { calm: '02', happy: '03', sad: '04', angry: '05' }, [
    '01',
    '02',
    '03',
    '04',
  ]);
  const out = join(scratch, 'run');
  const lines: string[] = [];
  const common = { cacheDir: null, threads: 1, progress: 'none', log: (line: string) => lines.push(line) } as const;
  // Stopped before its first epoch ended (no checkpoint yet), then resumed: the resumed run must still start from
  // the initial model, which only config.json names by then.
  const stop = new AbortController();
  stop.abort();
  const stopped = await trainRun({
    out,
    data: { dataset: 'folders', path: corpus },
    init: defaultModelDir(),
    hyper: { epochs: 1, batchSize: 4, lr: 1e-7 },
    signal: stop.signal,
    ...common,
  });
  assert.equal(stopped.finished, 'interrupted');
  assert.ok(!existsSync(join(out, 'checkpoint.safetensors')));
  const result = await trainRun({ out, resume: true, ...common });
  assert.ok(result.report, 'the run finished');
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as RunConfig;
  assert.deepEqual(config.init, { model: defaultModelDir(), labels: shipped.config.labels });
  assert.deepEqual(config.labels, ['angry', 'calm', 'happy', 'sad']);
  assert.deepEqual(config.model, { ...untempered(shipped.config.model), nClasses: 4 });
  assert.deepEqual(config.recipe, shipped.config.recipe, "without --recipe, the initial model's recipe");
  const license = readFileSync(join(out, 'LICENSE'), 'utf8');
  assert.ok(license.startsWith(`The weights of this run were fine-tuned from ${defaultModelDir()}`), license);
  assert.ok(license.endsWith(readFileSync(join(defaultModelDir(), 'LICENSE'), 'utf8')), "the shipped model's terms follow");
  assert.ok(
    lines.includes(
      `fine-tuning from ${defaultModelDir()} (classes ${shipped.config.labels.join(', ')}): output rows carried over for angry, happy, sad; ` +
        'new, freshly initialised: calm',
    ),
    lines.join('\n'),
  );
  assert.equal(lines.filter((line) => line.startsWith('fine-tuning from')).length, 2, 'the new run and the resumed one');
  // A few AdamW steps of 1e-7 move each weight by about 1e-7 a step: the result is the shipped model's weights, not
  // a random start (those differ from the shipped ones by ~0.1).
  const trained = evalOnnxState(readFileSync(join(out, 'model.onnx')), config.model);
  for (const name of ['a.0.weight', 'b.5.weight', 'proj.weight', 'enc.layers.5.linear2.weight']) {
    const diff = maxAbsDiff(trained.get(name)?.data as Float32Array, shipped.weights.get(name)?.data as Float32Array);
    assert.ok(diff < 1e-5, `${name} moved by ${diff}`);
  }
  const fc = trained.get('fc.weight')?.data as Float32Array;
  const shippedFc = shipped.weights.get('fc.weight')?.data as Float32Array;
  const sadRow = Float32Array.from(row(shippedFc, shipped.config.labels.indexOf('sad')));
  assert.ok(maxAbsDiff(Float32Array.from(row(fc, 3)), sadRow) < 1e-5, 'the sad row is carried over');
  const freshFc = initialState(config.model, 0).get('fc.weight')?.data as Float32Array;
  assert.ok(maxAbsDiff(Float32Array.from(row(fc, 1)), Float32Array.from(row(freshFc, 1))) < 1e-5, 'the calm row is the seeded one');
});
