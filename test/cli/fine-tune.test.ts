/**
 * `ser train --init` (src/cli/train.ts, src/train/fine-tune.ts): flags that would not fit the initial model's
 * weights are refused before any training, each naming what to drop or give. The fine-tuning run itself is tested
 * in test/train/fine-tune.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-cli-fine-tune-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('ser train --init: refuses a model size, clip length or input normalisation of its own, a missing run, and --init on resume', async () => {
  const out = join(scratch, 'run');
  const size = await runCli(['train', '--init', 'default', '--size', 'small', '--duration', '2', '--out', out]);
  assert.equal(size.code, 1, size.stderr);
  assert.match(size.stderr, /--init default takes the model size and clip length from that model; drop --size, --duration/);

  const norm = await runCli(['train', '--init', 'default', '--input-norm', 'none', '--out', out, '--no-cache']);
  assert.equal(norm.code, 1, norm.stderr);
  assert.match(
    norm.stderr,
    /that model normalises its input per 'band', the recipe asks for 'none'; drop --input-norm or give --input-norm band/,
  );

  const missing = await runCli(['train', '--init', join(scratch, 'nowhere'), '--out', out]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /nowhere: no such run directory/);

  const resume = await runCli(['train', '--out', out, '--resume', '--init', 'default']);
  assert.equal(resume.code, 1, resume.stderr);
  assert.match(resume.stderr, /--resume takes the run's settings from .*config\.json; drop --init/);
});
