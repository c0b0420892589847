/**
 * `ser ensemble` (src/train/ensemble.ts, src/model/ensemble.ts) on runs trained here: two small models (seeds 1
 * and 2, one epoch, 1 s clips) on RAVDESS actors 01-05 from ../shared with actor 05 as the fixed test speaker. The
 * ensemble's probabilities on the test recordings are the mean of its members' (through predictFiles, as
 * `ser predict` runs it), and it refuses members that do not fit together; fine-tuning refuses an ensemble.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { type Prediction, predictFiles } from '../../src/infer/inference.js';
import { evalOnnxState } from '../../src/model/cnn-tm.js';
import { ensembleOnnxStates, rebuildModelOnnx } from '../../src/model/ensemble.js';
import { ensembleRuns } from '../../src/train/ensemble.js';
import { readInitialModel } from '../../src/train/fine-tune.js';
import { smallRun, twoSmallRuns } from './small-runs.js';

const { scratch, skip, ...runs } = await twoSmallRuns('ser-ensemble-');

test('the ensemble of two runs gives the mean of their probabilities on every test recording', { skip }, async () => {
  const out = join(scratch, 'ensemble');
  const { config } = ensembleRuns([runs.a, runs.b], out);
  assert.deepEqual(config.ensemble?.members, [runs.a, runs.b]);
  assert.deepEqual(readFileSync(join(out, 'split.json')), readFileSync(join(runs.a, 'split.json')));
  const files = ['01', '03', '04', '05'].map((e) => join(scratch, 'ravdess', 'Actor_05', `03-01-${e}-01-01-01-05.wav`));
  const of = async (dir: string) => (await predictFiles(dir, files, { threads: 1, jobs: 0 })) as Prediction[];
  const [a, b, both] = [await of(runs.a), await of(runs.b), await of(out)];
  let differ = 0;
  both.forEach((p, i) => {
    const pa = a[i]?.probabilities as Record<string, number>;
    const pb = b[i]?.probabilities as Record<string, number>;
    for (const label of config.labels) {
      const mean = ((pa[label] as number) + (pb[label] as number)) / 2;
      assert.ok(Math.abs((p.probabilities[label] as number) - mean) < 1e-6, `${files[i]}, ${label}`);
      if (Math.abs((pa[label] as number) - (pb[label] as number)) > 1e-3) differ++;
    }
  });
  assert.ok(differ > 0, 'the two members must disagree somewhere, or the test shows nothing');
});

test('an ensemble model.onnx gives back the weights of each member and rebuilds to the same bytes', { skip }, () => {
  const out = join(scratch, 'ensemble-rebuild');
  const { config } = ensembleRuns([runs.a, runs.b], out);
  const bytes = new Uint8Array(readFileSync(join(out, 'model.onnx')));
  const states = ensembleOnnxStates(bytes, config.model, 2);
  [runs.a, runs.b].forEach((dir, k) => {
    const own = evalOnnxState(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), config.model);
    assert.equal(states[k]?.size, own.size);
    for (const [name, tensor] of own) assert.deepEqual(states[k]?.get(name)?.data, tensor.data, `member ${k}, ${name}`);
  });
  assert.throws(() => ensembleOnnxStates(bytes, config.model, 3), /under 'member2'.*'fc\.weight' missing/);
  assert.ok(Buffer.from(rebuildModelOnnx(bytes, config.model, 2)).equals(bytes), 'the rebuilt ensemble differs from the one written');
});

test('ensembleRuns refuses one run, a run given twice, an existing model, an ensemble as member, other inputs and another test part', {
  skip,
}, async () => {
  const refuses = (dirs: string[], out: string, pattern: RegExp) =>
    assert.throws(
      () => ensembleRuns(dirs, out),
      (error: unknown) => error instanceof SerError && error.code === 'EARG' && pattern.test(error.message),
    );
  refuses([runs.a], join(scratch, 'one'), /at least 2 run folders \(1 given\)/);
  refuses([runs.a, runs.b, `${runs.a}/`], join(scratch, 'twice'), /ser-ensemble-.*[/\\]a is given twice/);
  refuses([runs.a, runs.b], runs.a, /already holds a model\.onnx/);
  const first = join(scratch, 'ensemble-of-ensemble-source');
  ensembleRuns([runs.a, runs.b], first);
  refuses([first, runs.a], join(scratch, 'nested'), /is an ensemble itself; give its members/);
  const longer = await smallRun(scratch, 'longer', 3, { durationS: 1.5 });
  refuses([runs.a, longer], join(scratch, 'longer-ensemble'), /differs from .* in model, durationS/);
  const otherTest = await smallRun(scratch, 'other-test', 4, { test: '04' });
  refuses([runs.a, otherTest], join(scratch, 'other-test-ensemble'), /another test part/);
  assert.ok(!existsSync(join(scratch, 'other-test-ensemble', 'model.onnx')), 'nothing written when refused');
});

test('fine-tuning refuses an ensemble, naming its members', { skip }, () => {
  const out = join(scratch, 'ensemble-for-init');
  ensembleRuns([runs.a, runs.b], out);
  assert.throws(
    () => readInitialModel(out),
    (error: unknown) =>
      error instanceof SerError && error.code === 'EARG' && /cannot be fine-tuned; give one of its members/.test(error.message),
  );
});
