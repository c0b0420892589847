/**
 * RecordingWindowPool: the windows a worker makes are those recording-windows.ts makes on the calling thread, to the
 * bit, with the same FailedPrediction for a file that cannot be read; results come back to the file that asked, however
 * many are in flight; closing the pool rejects what is still waiting and every later call, and a worker that dies
 * rejects them saying so. Shipped clips.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { RecordingInputs } from '../../src/infer/model-use.js';
import { recordingWindows } from '../../src/infer/recording-windows.js';
import { RecordingWindowPool } from '../../src/infer/window-pool.js';
import { assetPath } from '../../src/io/paths.js';
import { readRunConfig } from '../../src/train/run-dir.js';

const config = readRunConfig(assetPath('models', 'default'));
const crema = assetPath('corpus', 'crema-d');
const clips = readdirSync(crema)
  .filter((name) => name.endsWith('.opus'))
  .map((name) => join(crema, name));

test('a pool of 2 gives each file the windows of the calling thread, to the bit, and the same failure', async () => {
  const inputs = new RecordingInputs(config);
  const files = [...clips, join(crema, 'no-such-file.opus')];
  const pool = new RecordingWindowPool(config, 2);
  try {
    // All asked at once: more files than workers, answered in whatever order the workers finish.
    const pooled = await Promise.all(files.map((file) => pool.windowsOf(file)));
    for (const [i, file] of files.entries()) {
      const expected = await recordingWindows(file, inputs);
      assert.deepEqual(pooled[i], expected, file);
    }
    const missing = pooled[files.length - 1];
    assert.ok(missing && 'error' in missing && missing.code === 'EIO', JSON.stringify(missing));
    assert.ok(pooled.slice(0, -1).every((r) => 'windows' in r && r.count > 0));
  } finally {
    await pool.close();
  }
});

test('closing the pool rejects the files still waiting and every later call', async () => {
  const pool = new RecordingWindowPool(config, 1);
  const waiting = Promise.allSettled(clips.map((file) => pool.windowsOf(file)));
  await pool.close();
  const settled = await waiting;
  assert.ok(
    settled.some((s) => s.status === 'rejected'),
    'one worker cannot have finished 12 clips before close',
  );
  for (const s of settled) if (s.status === 'rejected') assert.match(String(s.reason), /decoding workers were stopped/);
  await assert.rejects(pool.windowsOf(clips[0] as string), /decoding workers were stopped/);
});

test('a worker that dies rejects the files waiting and running, and every later call, saying so', { timeout: 60_000 }, async () => {
  const pool = new RecordingWindowPool(config, 2);
  try {
    const waiting = Promise.allSettled(clips.map((file) => pool.windowsOf(file)));
    // As if the thread crashed (out of memory, a native fault): it exits without a reply.
    await (pool as unknown as { workers: Worker[] }).workers[0]?.terminate();
    const settled = await waiting;
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.ok(rejected.length > 0, 'the dead worker had a file, and more were waiting');
    for (const s of rejected) assert.match(String(s.reason), /decoding worker exited \(code \d+\)/);
    await assert.rejects(pool.windowsOf(clips[0] as string), { code: 'ERUNTIME', message: /decoding worker exited/ });
  } finally {
    await pool.close();
  }
});

test('a pool size other than a whole number >= 1 is an EARG naming it', () => {
  assert.throws(() => new RecordingWindowPool(config, 0), { code: 'EARG', message: /whole number >= 1 \(0 given\)/ });
});
