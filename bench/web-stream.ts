/**
 * Streaming in a real browser (issue 10): headless Chromium (Debian's, driven by playwright-core) loads the shipped
 * model through speech-emotion/web (onnxruntime-web, WebAssembly, --threads threads) in bench/web/stream-page.ts
 * and pushes decoded real speech into recognizer.stream() in chunks of --chunk-ms, each when its last sample would
 * arrive from a live source (real time; --fast: as fast as it takes them); then the Node peer, in the same run: the
 * same samples, chunks and loop into src/stream's StreamingRecognizer on onnxruntime-node with the same threads.
 * Both sides run bench/stream-pace.ts: per window, the time from its last sample's arrival to its result (median,
 * p95, max) and the duration of the push that returned it; real-time factor = time inside push/end / audio time.
 *
 *   npm run bench:web-stream [-- --seconds 60] [--chunk-ms 20] [--window 3] [--hop 1] [--rate 16000] [--threads 1]
 *                            [--fast] [--chromium /usr/bin/chromium] [--json]
 *
 * Audio: RAVDESS clips of assets/corpus joined to --seconds (bench/speech.ts), decoded once in Node and served to
 * the page as float32 samples at --rate, so both sides get the same samples. Everything is served on 127.0.0.1
 * (the page, onnxruntime-web's WebAssembly from node_modules, the model): no network. The page is cross-origin
 * isolated (COOP/COEP), so --threads > 1 can use WebAssembly threads.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { packageRoot } from '../src/io/paths.js';
import { RunModel, defaultModelDir } from '../src/infer/inference.js';
import { StreamingRecognizer, windowModel } from '../src/stream/index.js';
import { bundleForBrowser, ortWasmDir, serveStatic } from '../src/web/demo/server.js';
import { joinedSpeech } from './speech.js';
import { type PaceResult, paceStream, spread } from './stream-pace.js';
import type { StreamBenchResult, StreamJob } from './web/stream-page.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'chunk-ms': { type: 'string', default: '20' },
    window: { type: 'string', default: '3' },
    hop: { type: 'string', default: '1' },
    rate: { type: 'string', default: '16000' },
    threads: { type: 'string', default: '1' },
    fast: { type: 'boolean', default: false },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const job: StreamJob = {
  rateHz: Number(args.rate),
  chunkMs: Number(args['chunk-ms']),
  windowS: Number(args.window),
  hopS: Number(args.hop),
  threads: Number(args.threads),
  realTime: !args.fast,
};
const speech = await joinedSpeech(seconds, job.rateHz);
const load1m = () => Number(loadavg()[0]?.toFixed(2));

// Browser.
const loadBefore = load1m();
const server = await serveStatic({
  files: new Map<string, string | Uint8Array>([
    ['/', '<!doctype html><meta charset="utf-8"><title>stream bench</title><script type="module" src="/page.js"></script>'],
    ['/page.js', await bundleForBrowser(join(packageRoot(), 'bench', 'web', 'stream-page.ts'))],
    ['/job.json', JSON.stringify(job)],
    ['/speech.f32', new Uint8Array(speech.buffer, speech.byteOffset, speech.byteLength)],
  ]),
  folders: [
    ['/ort/', ortWasmDir()],
    ['/model/', defaultModelDir()],
  ],
});
const browser = await chromium.launch({
  executablePath: args.chromium,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
let web: StreamBenchResult;
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  const handle = await page.waitForFunction(() => (globalThis as { streamBench?: unknown }).streamBench, undefined, {
    timeout: (seconds * 3 + 120) * 1000,
    polling: 500,
  });
  const outcome = (await handle.jsonValue()) as { result?: StreamBenchResult; error?: string };
  if (!outcome.result) throw new Error(`bench/web-stream.ts: the page failed: ${outcome.error}`);
  web = outcome.result;
} finally {
  await browser.close();
  await server.close();
}

// Node peer: the same samples, chunks and loop.
const loadBetween = load1m();
const model = await RunModel.load(undefined, { threads: job.threads });
const stream = (options: { speechGate?: null; windowS?: number; hopS?: number }) =>
  new StreamingRecognizer(windowModel(model), { inputRateHz: job.rateHz, ...options });
await stream({ speechGate: null }).push(speech.subarray(0, 3 * job.rateHz)); // warm-up, as the page
const node = await paceStream(stream({ windowS: job.windowS, hopS: job.hopS }), speech, job);
await model.release();
const loadAfter = load1m();

const summary = (paced: PaceResult) => {
  const live = spread(paced.latencyMs);
  const push = spread(paced.pushMs);
  return {
    windows: paced.windows,
    silentWindows: paced.silentWindows,
    ...(job.realTime ? { lastSampleToResultMs: live } : {}),
    pushMs: push,
    realTimeFactor: Number((paced.busyMs / 1000 / paced.audioS).toFixed(4)),
  };
};
const result = {
  date: new Date().toISOString(),
  audioS: seconds,
  ...job,
  browser: { ...summary(web), userAgent: web.userAgent, crossOriginIsolated: web.crossOriginIsolated, modelLoadMs: Math.round(web.loadMs) },
  node: { ...summary(node), version: process.version },
  loadAverage1m: { before: loadBefore, betweenBrowserAndNode: loadBetween, after: loadAfter },
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(
    `${seconds} s of speech at ${job.rateHz} Hz in ${job.chunkMs} ms chunks${job.realTime ? ', real time' : ', as fast as taken'}; ${job.windowS} s windows every ${job.hopS} s; ${job.threads} thread(s)`,
  );
  for (const [side, s] of [
    ['Chromium (onnxruntime-web, WebAssembly)', result.browser],
    ['Node (onnxruntime-node)', result.node],
  ] as const) {
    const live = s.lastSampleToResultMs
      ? `last sample to result median ${s.lastSampleToResultMs.median} ms, p95 ${s.lastSampleToResultMs.p95} ms, max ${s.lastSampleToResultMs.max} ms; `
      : '';
    console.log(
      `${side}: ${s.windows} windows (${s.silentWindows} silence); ${live}push median ${s.pushMs.median} ms, p95 ${s.pushMs.p95} ms; real-time factor ${s.realTimeFactor}`,
    );
  }
  console.log(
    `${web.userAgent}; cross-origin isolated ${web.crossOriginIsolated}; load average (1 min) ${JSON.stringify(result.loadAverage1m)}`,
  );
}
