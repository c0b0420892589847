/**
 * Front-end speed, ours vs torchaudio, in one run: milliseconds per 3 s clip with the default front end
 * (16 kHz, n_fft 1024, win 512, hop 256, 128 HTK mels, top_db 80).
 *   npm run bench:features -- [--seconds 3] [--rounds 5]        (npx tsx bench/features.ts)
 * Each round runs every measurement once, ours and torchaudio's alternating, in an order rotated from round to
 * round, so both sides see the same mix of machine load; the table gives the median over the rounds and the
 * spread (min-max). Measurements (each warms up first, then runs for --seconds):
 *   ours TS           LogMelFrontEnd.logMel (its STFT blocks in the WebAssembly SIMD kernel where the engine has
 *                     it, src/features/stft-kernel.ts), one clip per call, on the main thread / on 2 worker_threads
 *   ours ORT batched  the front end's ONNX nodes (logMelNodes, src/features/graph.ts) on [32, 48000], run by
 *                     onnxruntime-node with 1 or 2 intra-op threads
 *   torchaudio        bench/peers/features_torchaudio.py (TORCH_PYTHON, default /usr/bin/python3): per clip with
 *                     1 thread, as 2 one-thread processes, batched 32 with 1 or 2 threads
 * and both sides' resample 44.1 -> 16 kHz + log-mel per clip on 1 thread. Prints the machine, its load and a
 * markdown table for BENCHMARKS.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resample } from '../src/audio/resample.js';
import { LogMelFrontEnd } from '../src/features/index.js';
import { logMelNodes } from '../src/features/graph.js';
import { Graph, toOnnx } from '../src/graph/index.js';
import { type Session, createSession } from '../src/runtime/index.js';

type Mode = 'logmel' | 'resample+logmel';
const BATCH = 32;
const CLIP_S = 3;

/** A measurement: clips per wall second, CPU ms per clip (of this process, or the peer's processes). */
interface Rate {
  clipsPerS: number;
  cpuMsPerClip: number;
}

/** `count` deterministic 3 s clips at `rateHz`: a tone plus noise (content does not change the work). */
function clips(rateHz: number, count = 8): Float32Array[] {
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, (_, c) =>
    Float32Array.from({ length: CLIP_S * rateHz }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (200 + 50 * c) * i) / rateHz) + 0.2 * noise()),
  );
}

/** Calls `work` (which handles `perCall` clips) for 1 s of warm-up, then for `seconds`. */
async function rateOf(work: () => unknown, perCall: number, seconds: number): Promise<Rate> {
  const warm = performance.now();
  while (performance.now() - warm < 1000) await work();
  let done = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - start < seconds * 1000) {
    await work();
    done += perCall;
  }
  const used = process.cpuUsage(cpu);
  return { clipsPerS: done / ((performance.now() - start) / 1000), cpuMsPerClip: (used.user + used.system) / 1000 / done };
}

/** Our TypeScript front end on this thread, one clip per call. */
function oursTs(mode: Mode, seconds: number): Promise<Rate> {
  const frontEnd = new LogMelFrontEnd();
  const rate = mode === 'logmel' ? 16000 : 44100;
  const data = clips(rate);
  let i = 0;
  return rateOf(
    () => {
      const x = data[i++ % data.length]!;
      return frontEnd.logMel(mode === 'logmel' ? x : resample(x, rate, 16000));
    },
    1,
    seconds,
  );
}

/** The front end's ONNX nodes (logMelNodes, the export's definition) on a [BATCH, 3 s] batch, run by ORT. */
async function frontEndSession(threads: number): Promise<Session> {
  const g = new Graph('front_end');
  const waveform = g.input('waveform', [BATCH, CLIP_S * 16000]);
  g.output('mel_db', logMelNodes(waveform, new LogMelFrontEnd()));
  return createSession(toOnnx(g), { threads });
}

async function oursOrt(threads: number, seconds: number): Promise<Rate> {
  const session = await frontEndSession(threads);
  const length = CLIP_S * 16000;
  const data = new Float32Array(BATCH * length);
  for (const [b, clip] of clips(16000, BATCH).entries()) data.set(clip, b * length);
  const feeds = { waveform: { data, shape: [BATCH, length] } };
  try {
    return await rateOf(() => session.run(feeds), BATCH, seconds);
  } finally {
    await session.release();
  }
}

/** Our TypeScript front end on `threads` worker threads at once; rates add up, CPU ms averaged. */
function oursWorkers(mode: Mode, seconds: number, threads: number): Promise<Rate> {
  const self = fileURLToPath(import.meta.url);
  const runs = Array.from(
    { length: threads },
    () =>
      new Promise<Rate>((resolve, reject) => {
        // Under tsx (a .ts file) the worker loads this file through tsx's API; compiled, it runs the .js directly.
        const url = JSON.stringify(import.meta.url);
        const entry = self.endsWith('.ts') ? `import('tsx/esm/api').then((api) => api.tsImport(${url}, ${url}))` : self;
        const worker = new Worker(entry, { eval: self.endsWith('.ts'), workerData: { mode, seconds } });
        worker.once('message', (result: Rate) => resolve(result));
        worker.once('error', reject);
      }),
  );
  // process.cpuUsage in a worker is the whole process's; the wall rate is what the two workers deliver.
  return Promise.all(runs).then((rates) => ({
    clipsPerS: rates.reduce((a, r) => a + r.clipsPerS, 0),
    cpuMsPerClip: Number.NaN,
  }));
}

let peerVersion = '';

function torchaudio(mode: string, seconds: number, options: { threads?: number; processes?: number } = {}): Rate {
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const script = fileURLToPath(new URL('./peers/features_torchaudio.py', import.meta.url)).replace(/build\/bench/, 'bench');
  const args = [script, '--mode', mode, '--seconds', String(seconds), '--threads', String(options.threads ?? 1)];
  args.push('--processes', String(options.processes ?? 1));
  const result = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) {
    const why = (result.stderr || String(result.error)).trim().split('\n').slice(-1)[0];
    throw new Error(`bench:features: torchaudio peer failed (${python} ${args.join(' ')}): ${why}`);
  }
  const parsed = JSON.parse(result.stdout) as Rate & { torch: string; torchaudio: string };
  peerVersion = `torch ${parsed.torch}, torchaudio ${parsed.torchaudio}`;
  return { clipsPerS: parsed.clipsPerS, cpuMsPerClip: parsed.cpuMsPerClip };
}

/** Each row compares ours with torchaudio on the same cores; every cell is measured once per round. */
const ROWS: {
  what: string;
  cores: number;
  ours: Record<string, (s: number) => Promise<Rate>>;
  torch: Record<string, (s: number) => Rate>;
}[] = [
  {
    what: 'log-mel, 1 core',
    cores: 1,
    ours: { 'TS, 1 clip per call': (s) => oursTs('logmel', s), [`ORT batched ${BATCH}, 1 thread`]: (s) => oursOrt(1, s) },
    torch: {
      '1 clip per call, 1 thread': (s) => torchaudio('logmel', s),
      [`batched ${BATCH}, 1 thread`]: (s) => torchaudio('logmel batched', s),
    },
  },
  {
    what: 'log-mel, 2 cores',
    cores: 2,
    ours: { 'TS, 2 workers': (s) => oursWorkers('logmel', s, 2), [`ORT batched ${BATCH}, 2 threads`]: (s) => oursOrt(2, s) },
    torch: {
      '2 one-thread processes': (s) => torchaudio('logmel', s, { processes: 2 }),
      [`batched ${BATCH}, 2 threads`]: (s) => torchaudio('logmel batched', s, { threads: 2 }),
    },
  },
  {
    what: 'resample 44.1 kHz + log-mel, 1 core',
    cores: 1,
    ours: { 'TS, 1 clip per call': (s) => oursTs('resample+logmel', s) },
    torch: { '1 clip per call, 1 thread': (s) => torchaudio('resample+logmel', s) },
  },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const seconds = option('--seconds', 3);
  const rounds = option('--rounds', 5);
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const loads: number[] = [loadavg()[0]!];
  const loadBefore = loadavg();
  // cells[row][side:name] = one Rate per round
  const cells = ROWS.map(() => new Map<string, Rate[]>());
  const tasks = ROWS.flatMap((row, r) => {
    const ours = Object.entries(row.ours).map(([name, run]) => ({ r, key: `ours: ${name}`, run }));
    const torch = Object.entries(row.torch).map(([name, run]) => ({ r, key: `torchaudio: ${name}`, run: async (s: number) => run(s) }));
    // ours, torch, ours, torch, ...
    return Array.from({ length: Math.max(ours.length, torch.length) }, (_, i) => [ours[i], torch[i]])
      .flat()
      .filter((t) => t !== undefined);
  });
  for (let round = 0; round < rounds; round++) {
    const shift = (round * 3) % tasks.length; // rotate the order so no measurement always follows the same one
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(k + shift) % tasks.length]!;
      const result = await task.run(seconds);
      const list = cells[task.r]!.get(task.key) ?? [];
      list.push(result);
      cells[task.r]!.set(task.key, list);
      loads.push(loadavg()[0]!);
    }
    process.stderr.write(`round ${round + 1}/${rounds} done, load ${loadavg()[0]!.toFixed(2)}\n`);
  }
  const loadAfter = loadavg();

  const ms = (rate: number) => 1000 / rate;
  const spread = (rates: Rate[]) => {
    const perClip = rates.map((x) => ms(x.clipsPerS));
    return `${median(perClip).toFixed(2)} (${Math.min(...perClip).toFixed(2)}-${Math.max(...perClip).toFixed(2)})`;
  };
  const cpu = (rates: Rate[]) => {
    const values = rates.map((x) => x.cpuMsPerClip).filter((x) => Number.isFinite(x));
    return values.length ? median(values).toFixed(2) : '-';
  };
  const lines = [
    `date ${new Date().toISOString()}; ${cpus().length} CPUs (nproc), ${cpuModel}; Node ${process.version}; peer: ${peerVersion}`,
    `load average (1 min) before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}; ` +
      `during: median ${median(loads).toFixed(2)}, ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}`,
    `${rounds} interleaved rounds, ${seconds} s per measurement after 1 s warm-up; wall ms per 3 s clip: median (min-max) over rounds`,
    '',
    '| 3 s clips | measurement | wall ms/clip, median (min-max) | CPU ms/clip (median) |',
    '| --- | --- | --- | --- |',
  ];
  const summary: string[] = [];
  ROWS.forEach((row, r) => {
    for (const [key, rates] of cells[r]!) lines.push(`| ${row.what} | ${key} | ${spread(rates)} | ${cpu(rates)} |`);
    const best = (side: string) =>
      Math.min(...[...cells[r]!].filter(([key]) => key.startsWith(side)).map(([, rates]) => median(rates.map((x) => ms(x.clipsPerS)))));
    const ours = best('ours');
    const torch = best('torchaudio');
    summary.push(
      `${row.what}: ours best ${ours.toFixed(2)} ms/clip, torchaudio best ${torch.toFixed(2)} ms/clip: torchaudio / ours = ${(torch / ours).toFixed(2)}x`,
    );
  });
  console.log([...lines, '', ...summary].join('\n'));
}

if (isMainThread) {
  await main();
} else {
  const { mode, seconds } = workerData as { mode: Mode; seconds: number };
  parentPort!.postMessage(await oursTs(mode, seconds));
}
