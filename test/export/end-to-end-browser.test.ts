/**
 * The end-to-end ONNX model (`ser export --end-to-end`, src/export/end-to-end.ts) in a real browser: Debian's
 * Chromium driven by playwright-core loads the exported default model with plain onnxruntime-web (its ESM build and
 * WebAssembly served from node_modules by a loopback server, one thread; no network, none of our code in the page,
 * as a user of the exported file would run it), is fed the 16 kHz waveforms of real speech (CREMA-D and RAVDESS
 * clips of assets/corpus, and a 16 s recording of them joined, past the recipe's 12 s), and gives `ser predict`'s
 * probabilities (predictFiles: our decoder, front end and onnxruntime-node) within TOLERANCE; two rows of a batch
 * equal the row alone. Skipped when /usr/bin/chromium is absent (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { loadAudio } from '../../src/audio/index.js';
import { exportModel } from '../../src/export/index.js';
import { assetPath } from '../../src/io/paths.js';
import { allPredicted, defaultModelDir, predictFiles } from '../../src/infer/inference.js';
import { readRunConfig } from '../../src/train/run-dir.js';
import { type DemoServer, ortWasmDir, serveStatic } from '../../src/web/demo/server.js';
import { wav } from '../stream/windows.js';

const CHROMIUM = '/usr/bin/chromium';
/** WebAssembly vs native kernels, graph DFT vs FFT front end (measured 8e-7 in onnxruntime-web under Node). */
const TOLERANCE = 1e-4;
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;

/** The page: onnxruntime-web's ESM build, one WebAssembly thread, the exported model; window.classify(rows) runs it. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>end-to-end model</title>
<script type="module">
import * as ort from '/ort/ort.wasm.min.mjs';
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = '/ort/';
const session = ort.InferenceSession.create('/end-to-end.onnx', { executionProviders: ['wasm'] });
// rows: base64 float32 little-endian, all of one length; returns probabilities [rows, C] as one array.
window.classify = async (rows) => {
  const data = rows.map((text) => new Float32Array(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer));
  const samples = data[0].length;
  const batch = new Float32Array(rows.length * samples);
  data.forEach((row, i) => batch.set(row, i * samples));
  const s = await session;
  const out = await s.run({ waveform: new ort.Tensor('float32', batch, [rows.length, samples]) });
  return { names: [s.inputNames, s.outputNames], dims: out.probabilities.dims, probabilities: Array.from(out.probabilities.data) };
};
window.ready = session.then(() => 'ready', (error) => String(error));
</script>
`;

const clips = [
  'crema-d/1001_DFA_ANG_XX.opus',
  'crema-d/1001_DFA_SAD_XX.opus',
  'ravdess/Actor_01/03-01-01-01-01-01-01.opus',
  'ravdess/Actor_02/03-01-05-01-02-01-02.opus',
  'ravdess/Actor_04/03-01-06-02-01-02-04.opus',
  'ravdess/Actor_06/03-01-03-01-02-02-06.opus',
].map((f) => assetPath('corpus', f));
const config = readRunConfig(defaultModelDir());
const scratch = mkdtempSync(join(tmpdir(), 'ser-e2e-browser-'));
const recordings = new Map<string, Float32Array>();
let server: DemoServer;
let browser: Browser;
let page: Page;

const base64 = (samples: Float32Array) => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');

async function classify(rows: Float32Array[]): Promise<{ names: string[][]; dims: number[]; probabilities: number[] }> {
  return page.evaluate(
    (texts) =>
      (
        globalThis as unknown as { classify(rows: string[]): Promise<{ names: string[][]; dims: number[]; probabilities: number[] }> }
      ).classify(texts),
    rows.map(base64),
  );
}

describe('end-to-end ONNX model in Chromium (onnxruntime-web, playwright-core)', { skip }, () => {
  before(
    async () => {
      const rate = config.frontEnd.sampleRateHz;
      for (const clip of clips) recordings.set(clip, (await loadAudio(clip, { sampleRateHz: rate })).samples);
      const all = [...recordings.values()];
      const long = new Float32Array(16 * rate);
      for (let at = 0, i = 0; at < long.length; at += all[i % all.length]!.length, i++)
        long.set(all[i % all.length]!.subarray(0, long.length - at), at);
      const longFile = join(scratch, 'long-16s.wav');
      writeFileSync(longFile, wav(long, rate));
      recordings.set(longFile, long);

      const model = join(scratch, 'end-to-end.onnx');
      exportModel(undefined, model, { endToEnd: true }); // ser export --end-to-end --out end-to-end.onnx
      server = await serveStatic({
        files: new Map<string, string | Uint8Array>([
          ['/', PAGE],
          ['/end-to-end.onnx', readFileSync(model)],
        ]),
        folders: [['/ort/', ortWasmDir()]],
      });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await browser.newPage();
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await page.goto(server.url);
      await page.waitForFunction(() => 'ready' in globalThis, undefined, { timeout: 10_000 });
      const ready = await page.evaluate(() => (globalThis as unknown as { ready: Promise<string> }).ready);
      assert.equal(ready, 'ready', `the page could not load the model: ${ready}`);
    },
    { timeout: 60_000 },
  );
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`gives ser predict's probabilities for 16 kHz speech within ${TOLERANCE}`, { timeout: 60_000 }, async () => {
    const files = [...recordings.keys()];
    const predicted = allPredicted(await predictFiles(undefined, files, { threads: 1 }));
    const classes = config.labels.length;
    let worst = 0;
    for (const [i, file] of files.entries()) {
      const { names, dims, probabilities } = await classify([recordings.get(file)!]);
      assert.deepEqual(names, [['waveform'], ['probabilities', 'logits']]);
      assert.deepEqual(dims, [1, classes]);
      const reference = predicted[i]!;
      for (const [c, label] of config.labels.entries()) {
        const difference = Math.abs((probabilities[c] as number) - (reference.probabilities[label] as number));
        assert.ok(
          difference < TOLERANCE,
          `${file}, ${label}: browser ${probabilities[c]} vs ser predict ${reference.probabilities[label]}`,
        );
        worst = Math.max(worst, difference);
      }
      assert.equal(config.labels[probabilities.indexOf(Math.max(...probabilities))], reference.label, file);
    }
    console.log(
      `end-to-end model in Chromium vs ser predict, ${files.length} recordings: largest probability difference ${worst.toExponential(2)}`,
    );
  });

  it('two rows of a batch each equal the row alone', { timeout: 30_000 }, async () => {
    const samples = recordings.get(clips[2]!)!;
    const alone = (await classify([samples])).probabilities;
    const { dims, probabilities } = await classify([samples, samples]);
    assert.deepEqual(dims, [2, config.labels.length]);
    for (let i = 0; i < probabilities.length; i++) {
      assert.ok(Math.abs((probabilities[i] as number) - (alone[i % alone.length] as number)) < 1e-6, `row ${Math.floor(i / alone.length)}`);
    }
  });
});
