/**
 * Feature-extraction throughput, ours vs torchaudio, in one run: 3 s clips per second with the default front end
 * (16 kHz, n_fft 1024, win 512, hop 256, 128 HTK mels, top_db 80).
 *   npm run bench:features -- [--seconds 3] [--rounds 3]        (npx tsx bench/features.ts)
 * Modes: `logmel` (16 kHz waveform -> dB log-mel), `resample+logmel` (44.1 kHz waveform first), each on 1 thread
 * and on 2 worker threads (2 cores). The peer (bench/peers/features_torchaudio.py, run with TORCH_PYTHON, default
 * /usr/bin/python3) measures torchaudio with 1 and 2 intra-op threads, 2 one-thread processes, and batched.
 * Prints the machine, its load, and a markdown table (BENCHMARKS.md, docs/benchmark-log.md).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resample } from '../src/audio/resample.js';
import { LogMelFrontEnd } from '../src/features/index.js';

type Mode = 'logmel' | 'resample+logmel';
const MODES: Mode[] = ['logmel', 'resample+logmel'];

/** Eight deterministic 3 s clips at `rateHz`: a tone plus noise (content does not change the work). */
function clips(rateHz: number): Float32Array[] {
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  return Array.from({ length: 8 }, (_, c) =>
    Float32Array.from({ length: 3 * rateHz }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (200 + 50 * c) * i) / rateHz) + 0.2 * noise()),
  );
}

/** Clips per second of `mode` on this thread for about `seconds` (after a warm-up), and CPU ms per clip. */
function measure(mode: Mode, seconds: number): { rate: number; cpuMs: number } {
  const frontEnd = new LogMelFrontEnd();
  const rate = mode === 'logmel' ? 16000 : 44100;
  const data = clips(rate);
  let i = 0;
  const work = () => {
    const x = data[i++ % data.length]!;
    return frontEnd.logMel(mode === 'logmel' ? x : resample(x, rate, 16000));
  };
  for (let k = 0; k < 20; k++) work();
  let done = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) {
    for (let k = 0; k < 10; k++) work();
    done += 10;
  }
  const used = process.cpuUsage(cpu);
  return { rate: done / ((performance.now() - start) / 1000), cpuMs: (used.user + used.system) / 1000 / done };
}

function inWorkers(mode: Mode, seconds: number, threads: number): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const runs = Array.from(
    { length: threads },
    () =>
      new Promise<number>((resolve, reject) => {
        // Under tsx (a .ts file) the worker loads this file through tsx's API; compiled, it runs the .js directly.
        const url = JSON.stringify(import.meta.url);
        const entry = self.endsWith('.ts') ? `import('tsx/esm/api').then((api) => api.tsImport(${url}, ${url}))` : self;
        const worker = new Worker(entry, { eval: self.endsWith('.ts'), workerData: { mode, seconds } });
        worker.once('message', (result: { rate: number }) => resolve(result.rate));
        worker.once('error', reject);
      }),
  );
  return Promise.all(runs).then((rates) => rates.reduce((a, b) => a + b, 0));
}

function torchaudioPeer(seconds: number): { version: string; modes: Record<string, Record<string, number>> } | { error: string } {
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const script = fileURLToPath(new URL('./peers/features_torchaudio.py', import.meta.url)).replace(/build\/bench/, 'bench');
  const result = spawnSync(python, [script, '--seconds', String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0)
    return { error: `${python} ${script}: ${(result.stderr || String(result.error)).trim().split('\n').slice(-1)[0]}` };
  const parsed = JSON.parse(result.stdout) as { torch: string; torchaudio: string; modes: Record<string, Record<string, number>> };
  return { version: `torch ${parsed.torch}, torchaudio ${parsed.torchaudio}`, modes: parsed.modes };
}

/** Keeps the best of several rounds: the highest rate, the lowest CPU time (the least disturbed measurement). */
function keepBest(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) {
    const previous = into[key];
    const lowerIsBetter = key.startsWith('cpu');
    if (previous === undefined || (lowerIsBetter ? value < previous : value > previous)) into[key] = value;
  }
}

async function main(): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const seconds = option('--seconds', 3);
  const rounds = option('--rounds', 3);
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const loadBefore = loadavg();
  const ours: Record<Mode, Record<string, number>> = { logmel: {}, 'resample+logmel': {} };
  const torch: Record<string, Record<string, number>> = {};
  let peerNote = '';
  // Rounds alternate ours and torchaudio so both see the same mix of load; the best of the rounds is kept.
  for (let round = 0; round < rounds; round++) {
    for (const mode of MODES) {
      const single = measure(mode, seconds);
      keepBest(ours[mode], { '1 thread': single.rate, 'cpu ms per clip': single.cpuMs, '2 threads': await inWorkers(mode, seconds, 2) });
    }
    const peer = torchaudioPeer(seconds);
    if ('error' in peer) {
      peerNote = `torchaudio peer failed: ${peer.error}`;
      break;
    }
    peerNote = `peer: ${peer.version}`;
    for (const [mode, values] of Object.entries(peer.modes)) keepBest((torch[mode] ??= {}), values);
  }
  const loadAfter = loadavg();

  const fmt = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));
  const lines = [
    `date ${new Date().toISOString()}; ${cpus().length} CPUs (nproc), ${cpuModel}; Node ${process.version}`,
    `load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
    `${peerNote}; best of ${rounds} alternating rounds of ${seconds} s per measurement`,
    '',
    '| 3 s clips | ours: clips/s 1 thread | ours: clips/s 2 workers | ours: CPU ms/clip | torchaudio: clips/s 1 thread | 2 threads | 2 processes | batched 32 (best of 1/2 threads) | torchaudio: CPU ms/clip (1 thread) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const mode of MODES) {
    const t = torch[mode] ?? {};
    const batched = mode === 'logmel' ? torch['logmel batched'] : undefined;
    const bestBatched = batched ? Math.max(batched['1 thread'] ?? 0, batched['2 threads'] ?? 0) : undefined;
    const o = ours[mode];
    lines.push(
      `| ${mode} | ${fmt(o['1 thread'])} | ${fmt(o['2 threads'])} | ${o['cpu ms per clip']!.toFixed(2)} | ${fmt(t['1 thread'])} | ${fmt(t['2 threads'])} | ${fmt(t['2 processes'])} | ${fmt(bestBatched)} | ${t['cpu ms per clip']?.toFixed(2) ?? '-'} |`,
    );
  }
  console.log(lines.join('\n'));
}

if (isMainThread) {
  await main();
} else {
  const { mode, seconds } = workerData as { mode: Mode; seconds: number };
  parentPort!.postMessage(measure(mode, seconds));
}
