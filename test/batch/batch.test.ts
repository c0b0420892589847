/**
 * `ser batch` end to end on a real redis-server (loopback, temp folder) with real worker processes: 200 clips of
 * the embedded corpus, a copy of one of them, a garbage file and a file deleted after submission. One of two
 * workers is SIGKILLed part-way and a third started; the batch ends with exactly one result per distinct file,
 * equal to predictFiles (tolerance 1e-5: a clip's ORT call may hold other clips), and the two bad files in the
 * failed list with their errors, after their retries.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { batchStatus, connect } from '../../src/batch/index.js';
import { KEY_PREFIX } from '../../src/batch/queue.js';
import { assetPath } from '../../src/io/paths.js';
import { type Prediction, predictFiles } from '../../src/infer/inference.js';
import { type CliResult, runCli } from '../cli/run-cli.js';
import { type TestRedis, freePort, hasRedis, startRedis } from './redis-server.js';

const CLIPS = 200;
const ravdess = assetPath('corpus', 'ravdess');
const clips = readdirSync(ravdess, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.opus'))
  .sort()
  .slice(0, CLIPS)
  .map((f) => join(ravdess, f));

const scratch = mkdtempSync(join(tmpdir(), 'ser-batch-'));
let redis: TestRedis;
before(async () => {
  if (hasRedis) redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A `ser batch work` process; `lines()` counts the jobs it reported done. */
function startWorker(): { done: Promise<CliResult>; child: () => ChildProcess | undefined; lines: () => number } {
  let child: ChildProcess | undefined;
  let lines = 0;
  const args = ['batch', 'work', '--queue', redis.url, '--concurrency', '4', '--threads', '1', '--lock-ms', '2000', '--stalled-ms', '500'];
  const done = runCli(args, {
    onStdout: (text, c) => {
      child = c;
      lines = text.split('\n').length - 1;
    },
    onStderr: (_text, c) => {
      child = c;
    },
  });
  return { done, child: () => child, lines: () => lines };
}

async function until(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a batch with a worker killed part-way ends with one result per file and the bad files in the failed list', {
  skip: !hasRedis && 'redis-server is not installed (apt-get install redis-server)',
}, async () => {
  const copy = join(scratch, 'copy-of-first.opus');
  copyFileSync(clips[0]!, copy);
  const garbage = join(scratch, 'garbage.wav');
  writeFileSync(garbage, 'RIFF this is not a WAV file at all');
  const missing = join(scratch, 'deleted-after-submit.wav');
  writeFileSync(missing, readFileSync(clips[1]!).subarray(0, 100)); // different content: its own job
  const manifest = join(scratch, 'manifest.csv');
  writeFileSync(manifest, ['path', ...clips, copy, garbage, missing].join('\n') + '\n');

  const submit = ['batch', 'submit', '--queue', redis.url, '--name', 'archive', '--attempts', '2', '--backoff-ms', '200', manifest];
  const first = await runCli(submit);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`${CLIPS + 3} file\\(s\\), ${CLIPS + 2} distinct content\\(s\\), ${CLIPS + 2} new job\\(s\\)`));
  const again = await runCli(submit);
  assert.match(again.stdout, new RegExp(`0 new job\\(s\\) \\(${CLIPS + 2} already in the batch\\)`), 'resubmitting adds nothing');
  rmSync(missing);

  const a = startWorker();
  const b = startWorker();
  await until('worker a to finish 20 jobs', () => a.lines() >= 20, 60_000);
  a.child()!.kill('SIGKILL');
  assert.equal((await a.done).signal, 'SIGKILL');
  const c = startWorker();
  await until(
    'every job done or failed',
    async () => {
      const { counts } = await batchStatus(redis.url, 'archive');
      return counts.completed + counts.failed === CLIPS + 2;
    },
    80_000,
  );
  for (const w of [b, c]) w.child()!.kill('SIGTERM');
  for (const w of [b, c]) assert.equal((await w.done).code, 0, 'a worker stops cleanly on SIGTERM');

  const status = await batchStatus(redis.url, 'archive');
  assert.deepEqual(status.counts, { waiting: 0, active: 0, delayed: 0, completed: CLIPS, failed: 2 });
  const failed = new Map(status.failed.map((f) => [f.path, f]));
  assert.match(failed.get(garbage)!.error, /garbage\.wav/);
  assert.equal(failed.get(garbage)!.attempts, 1, 'an undecodable file is not retried');
  assert.match(failed.get(missing)!.error, /cannot be read on this worker \(ENOENT\)/);
  assert.equal(failed.get(missing)!.attempts, 2, 'a read error is retried');

  const out = join(scratch, 'results.jsonl');
  const results = await runCli(['batch', 'results', '--queue', redis.url, '--name', 'archive', '--out', out]);
  assert.match(results.stdout, new RegExp(`${CLIPS} result\\(s\\), 2 failed`));
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Prediction & { path: string; sha256: string; error?: string });
  const predicted = lines.filter((l) => l.error === undefined);
  assert.equal(predicted.length, CLIPS);
  assert.deepEqual(predicted.map((l) => l.path).sort(), [...clips].sort(), 'exactly one result per file');
  assert.equal(new Set(predicted.map((l) => l.sha256)).size, CLIPS);

  const sample = clips.filter((_, i) => i % 24 === 0);
  const expected = (await predictFiles(undefined, sample, { threads: 1 })) as Prediction[];
  const byPath = new Map(predicted.map((l) => [l.path, l]));
  for (const e of expected) {
    const got = byPath.get(e.file)!;
    assert.equal(got.label, e.label, e.file);
    for (const [label, p] of Object.entries(e.probabilities))
      assert.ok(Math.abs(got.probabilities[label]! - p) <= 1e-5, `${e.file} ${label}`);
  }

  // The kill hit jobs in progress: BullMQ found them stalled and another worker did them again.
  const connection = connect(redis.url);
  const queue = new Queue('archive', { connection, prefix: KEY_PREFIX });
  const completed = await queue.getCompleted(0, CLIPS);
  const recovered = completed.filter((job) => job.stalledCounter > 0 || job.attemptsStarted > 1).length;
  await queue.close();
  connection.disconnect();
  assert.ok(recovered >= 1, 'no job was taken over from the killed worker');
  process.stderr.write(`batch test: ${recovered} job(s) taken over from the killed worker\n`);
});

test('a queue URL where no Redis listens is an error naming it, not a hang', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const r = await runCli(['batch', 'status', '--queue', url, '--name', 'archive']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`ser: batch: ${url}: connect ECONNREFUSED .*is Redis running there\\?`));
  // The client gives up after 6 connection attempts 200 ms apart; the bound leaves room for a loaded machine's
  // process start (17 s was seen at load 12 on 2 cores), while a hang would never end.
  assert.ok(Date.now() - started < 60_000);
  const bad = await runCli(['batch', 'submit', '--queue', 'localhost:6379', '--name', 'a b', scratch]);
  assert.match(bad.stderr, /a batch name is 1-100 letters/);
});
