/**
 * `ser serve` throughput and latency against in-process predictFiles, in one run (issue 11).
 *   npm run bench:serve -- [--clips 128] [--rounds 3] [--dir DIR]        (npx tsx bench/serve.ts)
 * The server is a child process (`ser serve --port 0`, default batching: up to 32 model inputs per ONNX Runtime
 * call, 5 ms wait); autocannon posts the clips' bytes (each request the next clip) at concurrency 1, 8 and 32,
 * `--clips` requests per level after a warm-up. In-process: predictFiles over the same files (decode, features,
 * batched ORT), timed right before each HTTP level so both see the same background load; its rate leaves out the
 * model load (the time of a 1-file call is subtracted). `--rounds` rounds; the table gives every round's rates
 * and the median ratio, and CPU ms per clip of each side (the server's from its /metrics), steadier under load. Both sides use ORT's default 2 threads. Prints the machine, its load, and a markdown table.
 * Clips: RAVDESS of ../shared/data when present, else the embedded corpus (assets/corpus/ravdess).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { assetPath, packageRoot } from '../src/io/paths.js';
import { predictFiles } from '../src/infer/inference.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
};
const sharedRavdess = join(packageRoot(), '..', 'shared', 'data', 'ravdess');
const dir = flag('--dir', existsSync(sharedRavdess) ? sharedRavdess : assetPath('corpus', 'ravdess'));
const count = Number(flag('--clips', '128'));
const files = readdirSync(dir, { recursive: true })
  .map(String)
  .filter((f) => /\.(wav|opus|flac|mp3)$/.test(f))
  .sort()
  .slice(0, count)
  .map((f) => join(dir, f));
const bodies = files.map((f) => readFileSync(f));

/** predictFiles' clips/s and CPU ms per clip (process CPU time, ORT's threads included), model load left out. */
async function inProcessRate(): Promise<{ rate: number; cpuMs: number }> {
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let t = performance.now();
  let c = cpuMs();
  await predictFiles(undefined, files.slice(0, 1));
  const oneFile = performance.now() - t;
  const oneFileCpu = cpuMs() - c;
  t = performance.now();
  c = cpuMs();
  await predictFiles(undefined, files);
  const n = files.length - 1;
  return { rate: n / ((performance.now() - t - oneFile) / 1000), cpuMs: (cpuMs() - c - oneFileCpu) / n };
}

function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const match = /listening on (\S+)/.exec(out);
      if (match) resolve({ url: match[1] as string, child });
    });
    child.on('exit', (code) => reject(new Error(`ser serve exited with ${code}`)));
  });
}

/** The server's batch-size histogram sum and count, and its process CPU seconds, from /metrics. */
async function batchStats(url: string): Promise<{ sum: number; count: number; cpuS: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    sum: value('ser_inference_batch_size_sum'),
    count: value('ser_inference_batch_size_count'),
    cpuS: value('ser_process_cpu_seconds_total'),
  };
}

async function load(url: string, connections: number, amount: number) {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/classify`,
    connections,
    amount,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] as Buffer }),
      },
    ],
  });
  return {
    ok: result['2xx'],
    failed: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

const rounds = Number(flag('--rounds', '3'));
const loadBefore = loadavg()[0]!.toFixed(2);
const started = new Date().toISOString();
const server = await startServer();
await load(server.url, 8, 32); // warm-up
const LEVELS = [1, 8, 32];
const runs = new Map<
  number,
  Array<{ inProcess: number; inCpuMs: number; rate: number; cpuMs: number; p50: number; p99: number; failed: number; meanBatch: number }>
>(LEVELS.map((c) => [c, []]));
for (let round = 0; round < rounds; round++) {
  for (const connections of LEVELS) {
    // In-process right before each HTTP level, so that both see the same background load.
    const { rate: inProcess, cpuMs: inCpuMs } = await inProcessRate();
    const before = await batchStats(server.url);
    const r = await load(server.url, connections, files.length);
    const after = await batchStats(server.url);
    const meanBatch = (after.sum - before.sum) / Math.max(1, after.count - before.count);
    const cpuMs = (1000 * (after.cpuS - before.cpuS)) / Math.max(1, r.ok);
    runs.get(connections)!.push({ inProcess, inCpuMs, rate: r.ok / r.seconds, cpuMs, p50: r.p50, p99: r.p99, failed: r.failed, meanBatch });
    console.error(
      `round ${round + 1}, concurrency ${connections}: in-process ${inProcess.toFixed(1)} clips/s, HTTP ${(r.ok / r.seconds).toFixed(1)} clips/s`,
    );
  }
}
server.child.kill('SIGTERM');
await new Promise((resolve) => server.child.once('exit', resolve));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
console.log(`\n${started}, ${files.length} clips from ${dir}, ${rounds} rounds`);
console.log(
  `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), Node ${process.version}; load average ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after\n`,
);
console.log(
  '| concurrency | in-process clips/s (per round) | HTTP clips/s (per round) | HTTP / in-process (median) | p50 ms (median) | p99 ms (median) | CPU ms/clip in-process / server (median) | mean inputs per ORT call | failed |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of LEVELS) {
  const r = runs.get(c)!;
  const list = (f: (x: (typeof r)[number]) => number) => r.map((x) => f(x).toFixed(1)).join(', ');
  const ratio = median(r.map((x) => x.rate / x.inProcess));
  console.log(
    `| ${c} | ${list((x) => x.inProcess)} | ${list((x) => x.rate)} | ${(100 * ratio).toFixed(0)}% | ${median(r.map((x) => x.p50))} | ${median(r.map((x) => x.p99))} | ${median(r.map((x) => x.inCpuMs)).toFixed(1)} / ${median(r.map((x) => x.cpuMs)).toFixed(1)} | ${list((x) => x.meanBatch)} | ${r.reduce((a, x) => a + x.failed, 0)} |`,
  );
}
