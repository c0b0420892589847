/**
 * speech-emotion/web in a real browser: bundles bench/web/page.ts (src/web + onnxruntime-web) with esbuild for the
 * browser platform, serves it with a run's model.onnx and config.json and embedded RAVDESS clips, opens it in
 * headless Chromium, and compares what the page reports (WebAudio's decoder, onnxruntime-web's WebAssembly CPU
 * backend) with `ser predict` on the same files (our decoder, onnxruntime-node). Also times one clip's
 * classification (features + model) on both sides: the browser's median over --repeats calls, and Node's
 * (the run's inputs + its model.onnx on onnxruntime-node, same threads).
 *
 *   npx tsx bench/web-browser.ts --run runs/DIR [--clips 8] [--threads 1] [--repeats 5] [--chromium /usr/bin/chromium] [--json]
 *
 * The page is served cross-origin isolated (COOP/COEP headers), so --threads > 1 can use WebAssembly threads.
 * Probabilities are not expected to match to the last digit: the browser decodes Opus with its own decoder.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { loadAudio } from '../src/audio/index.js';
import { packageRoot } from '../src/io/paths.js';
import { RunModel, allPredicted, predictFiles } from '../src/infer/inference.js';

const { values: args } = parseArgs({
  options: {
    run: { type: 'string' },
    clips: { type: 'string', default: '8' },
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '5' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    json: { type: 'boolean', default: false },
  },
});
if (!args.run) throw new Error('bench/web-browser.ts: --run RUN_DIR is required (a directory made by ser train)');
const runDir = resolve(args.run);
const threads = Number(args.threads);
const repeats = Number(args.repeats);

const manifest = readFileSync(join(packageRoot(), 'assets', 'corpus', 'manifest.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1);
const clips = manifest
  .map((row) => row.split(',')[0] as string)
  .filter((path) => path.startsWith('ravdess/'))
  .slice(0, Number(args.clips))
  .map((path) => join(packageRoot(), 'assets', 'corpus', path));

const work = mkdtempSync(join(tmpdir(), 'bench-web-'));
const bundleStart = performance.now();
await build({
  entryPoints: [join(packageRoot(), 'bench', 'web', 'page.ts')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  outfile: join(work, 'page.js'),
  logLevel: 'error',
});
const bundleMs = performance.now() - bundleStart;
const bundleBytes = readFileSync(join(work, 'page.js')).length;

const ortDist = join(packageRoot(), 'node_modules', 'onnxruntime-web', 'dist');
const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};
let report: (value: string) => void = () => {};
const reported = new Promise<string>((resolve_) => {
  report = resolve_;
});
const server = createServer((request, response) => {
  const url = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
  const send = (body: string | Buffer, type: string) => {
    response.writeHead(200, {
      'Content-Type': type,
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    response.end(body);
  };
  try {
    if (url === '/result' && request.method === 'POST') {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        response.end('ok');
        report(body);
      });
    } else if (url === '/') send('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>', 'text/html');
    else if (url === '/page.js') send(readFileSync(join(work, 'page.js')), 'text/javascript');
    else if (url === '/job.json') send(JSON.stringify({ clips: clips.map((c) => basename(c)), threads, repeats }), 'application/json');
    else if (url.startsWith('/ort/')) send(readFileSync(join(ortDist, basename(url))), types[extname(url)] ?? 'application/octet-stream');
    else if (url.startsWith('/run/')) send(readFileSync(join(runDir, basename(url))), types[extname(url)] ?? 'application/octet-stream');
    else if (url.startsWith('/clips/')) send(readFileSync(clips.find((c) => basename(c) === basename(url)) as string), 'audio/ogg');
    else {
      response.writeHead(404);
      response.end();
    }
  } catch (error) {
    response.writeHead(500);
    response.end(String(error));
  }
});
await new Promise<void>((resolve_) => server.listen(0, '127.0.0.1', resolve_));
const port = (server.address() as { port: number }).port;
const profile = join(work, 'chromium-profile');
const browser = spawn(
  args.chromium,
  ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`],
  {
    stdio: 'ignore',
    detached: true, // its own process group: Chromium's helper processes are stopped with it
  },
);
const timeout = setTimeout(() => report(JSON.stringify({ error: 'no result from the page within 180 s' })), 180_000);
const page = JSON.parse(await reported) as {
  error?: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  createMs: number;
  results: { clip: string; decodedRateHz: number; label: string; probabilities: Record<string, number>; msPerClip: number }[];
};
clearTimeout(timeout);
const exited = new Promise((resolve_) => browser.once('exit', resolve_));
process.kill(-(browser.pid as number), 'SIGKILL');
await exited;
server.close();
rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
if (page.error) throw new Error(`the page failed: ${page.error}`);

// Node: ser predict's probabilities, and the time of features + model for one clip on onnxruntime-node.
const expected = allPredicted(await predictFiles(runDir, clips, { threads }));
const model = await RunModel.load(runDir, { threads });
const nodeMs: number[] = [];
for (const clip of clips) {
  const { samples } = await loadAudio(clip, { sampleRateHz: model.config.frontEnd.sampleRateHz });
  const times: number[] = [];
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const { windows, count } = model.inputs.of(samples);
    await model.recordingProbabilities(windows, [count]);
    if (i > 0) times.push(performance.now() - t0);
  }
  nodeMs.push(times.sort((a, b) => a - b)[Math.floor(times.length / 2)] as number);
}
await model.release();

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
let worst = 0;
let sameLabel = 0;
for (const [i, result] of page.results.entries()) {
  const node = expected[i]!;
  if (node.label === result.label) sameLabel++;
  for (const label of Object.keys(node.probabilities))
    worst = Math.max(worst, Math.abs((node.probabilities[label] as number) - (result.probabilities[label] as number)));
}
const summary = {
  date: new Date().toISOString(),
  browser: page.userAgent,
  cross_origin_isolated: page.crossOriginIsolated,
  run: runDir,
  clips: clips.length,
  threads,
  bundle_kb: Math.round(bundleBytes / 1024),
  bundle_ms: Math.round(bundleMs),
  browser_create_ms: Math.round(page.createMs),
  same_label_as_ser_predict: `${sameLabel}/${clips.length}`,
  max_probability_difference: Number(worst.toExponential(2)),
  browser_ms_per_clip_median: Number(median(page.results.map((r) => r.msPerClip)).toFixed(1)),
  node_ms_per_clip_median: Number(median(nodeMs).toFixed(1)),
};
if (args.json) console.log(JSON.stringify(summary));
else {
  for (const [i, result] of page.results.entries()) {
    console.log(
      `${result.clip.padEnd(28)} browser ${result.label.padEnd(10)} node ${expected[i]!.label.padEnd(10)} ${result.msPerClip.toFixed(1)} ms (decoded at ${result.decodedRateHz} Hz)`,
    );
  }
  console.log(summary);
}
