/**
 * A large `ser batch` run (issue 11): every audio file of the shared corpora as one batch on a fresh redis-server
 * (loopback, temp dir), two worker processes, one SIGKILLed when `--kill-at` of the jobs are done and restarted
 * `--restart-after-s` later. Prints clips/s (first worker start to last job), results, distinct files, duplicates,
 * failures, and how many jobs were taken over from the killed worker.
 *   npm run bench:batch -- [--data ../shared/data] [--concurrency 8] [--kill-at 0.4] [--restart-after-s 5]
 * Workers run with --lock-ms 10000 --stalled-ms 5000 so a killed worker's jobs come back within ~15 s.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { batchStatus, connect, submitBatch, writeResults } from '../src/batch/index.js';
import { KEY_PREFIX } from '../src/batch/queue.js';
import { packageRoot } from '../src/io/paths.js';
import { startRedis } from '../test/batch/redis-server.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
};
const dataDir = flag('--data', join(packageRoot(), '..', 'shared', 'data'));
const concurrency = flag('--concurrency', '8');
const killAt = Number(flag('--kill-at', '0.4'));
const restartAfterS = Number(flag('--restart-after-s', '5'));
const CORPORA = ['ravdess', 'nemo', 'emovo', 'urdu', 'korean-emotiontts', 'crema-d'];

const files = CORPORA.flatMap((corpus) =>
  readdirSync(join(dataDir, corpus), { recursive: true })
    .map(String)
    .filter((f) => /\.(wav|opus|flac|mp3)$/.test(f))
    .sort()
    .map((f) => join(dataDir, corpus, f)),
);
const scratch = mkdtempSync(join(tmpdir(), 'ser-bench-batch-'));
const manifest = join(scratch, 'manifest.csv');
writeFileSync(manifest, ['path', ...files].join('\n') + '\n');

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
function worker(url: string): ChildProcess {
  const workArgs = ['batch', 'work', '--queue', url, '--concurrency', concurrency, '--quiet', '--lock-ms', '10000', '--stalled-ms', '5000'];
  return spawn(process.execPath, ['--import', 'tsx', main, ...workArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const redis = await startRedis();
try {
  const loadBefore = loadavg()[0]!.toFixed(2);
  const startedAt = new Date().toISOString();
  let t = performance.now();
  const submitted = await submitBatch(redis.url, 'bench', manifest);
  const submitS = (performance.now() - t) / 1000;
  const total = submitted.distinct;
  t = performance.now();
  const a = worker(redis.url);
  const b = worker(redis.url);
  let done = 0;
  while (done < killAt * total) {
    await sleep(500);
    const { counts } = await batchStatus(redis.url, 'bench');
    done = counts.completed + counts.failed;
  }
  a.kill('SIGKILL');
  const killedAtS = (performance.now() - t) / 1000;
  await sleep(restartAfterS * 1000);
  const restarted = worker(redis.url);
  while (done < total) {
    await sleep(500);
    const { counts } = await batchStatus(redis.url, 'bench');
    done = counts.completed + counts.failed;
  }
  const seconds = (performance.now() - t) / 1000;
  for (const w of [b, restarted]) w.kill('SIGTERM');
  await Promise.all([b, restarted].map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));

  const out = join(scratch, 'results.jsonl');
  const written = await writeResults(redis.url, 'bench', out);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { path: string; sha256: string; label?: string; error?: string });
  const predicted = lines.filter((l) => l.label !== undefined);
  const connection = connect(redis.url);
  const queue = new Queue('bench', { connection, prefix: KEY_PREFIX });
  let takenOver = 0;
  for (let start = 0; start < total; start += 1000) {
    for (const job of await queue.getCompleted(start, start + 999)) if (job.stalledCounter > 0 || job.attemptsStarted > 1) takenOver++;
  }
  await queue.close();
  connection.disconnect();

  console.log(`\n${startedAt}: ${files.length} files from ${CORPORA.join(', ')} under ${dataDir}`);
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}; load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
  console.log(
    `submit: ${submitted.files} files, ${submitted.distinct} distinct contents, ${submitted.added} jobs in ${submitS.toFixed(1)} s`,
  );
  console.log(
    `workers: 2 x --concurrency ${concurrency}; one SIGKILLed at ${killedAtS.toFixed(1)} s (${Math.round(100 * killAt)}% done), restarted ${restartAfterS} s later`,
  );
  console.log(`all ${total} jobs finished in ${seconds.toFixed(1)} s: ${(total / seconds).toFixed(1)} clips/s`);
  console.log(`results: ${written.results} predictions, ${written.failed} failed, ${written.pending} pending`);
  console.log(
    `distinct paths among predictions: ${new Set(predicted.map((l) => l.path)).size}, distinct hashes: ${new Set(predicted.map((l) => l.sha256)).size}, duplicates: ${predicted.length - new Set(predicted.map((l) => l.sha256)).size}`,
  );
  console.log(`jobs taken over from the killed worker (stalled, then done by another): ${takenOver}`);
  for (const f of lines.filter((l) => l.error !== undefined).slice(0, 10)) console.log(`  failed: ${f.path}: ${f.error}`);
} finally {
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
