/**
 * The demo page (src/web/demo) in a real browser: Debian's Chromium driven by playwright-core, the microphone faked
 * from a real speech file (--use-fake-device-for-media-stream --use-file-for-fake-audio-capture), the shipped
 * default model, onnxruntime-web's WebAssembly served by the demo server (no network).
 *   - Microphone: the live timeline the page builds (getUserMedia -> AudioWorklet -> EmotionRecognizer.stream)
 *     equals the streaming recognizer in Node (onnxruntime-node) and `ser predict --segments` on the very samples
 *     the page captured: windows and labels equal, probabilities within TOLERANCE (WebAssembly vs native kernels).
 *   - The page loads the shipped model through EmotionRecognizer.load() without a URL (DEFAULT_MODEL_URL, resolved
 *     against the bundle), as the demo server serves the package's assets/models/default/.
 *   - File drop: the page's segment timeline equals `ser predict --segments` on the file (speech windows; the
 *     silence in the file is shown as silence), its overall label the mean of those windows'.
 * On failure a screenshot goes to a temp folder (its path is printed). Skipped when /usr/bin/chromium is absent
 * (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type Browser, type Page, chromium } from 'playwright-core';
import { loadAudio } from '../../src/audio/index.js';
import { assetPath, packageRoot } from '../../src/io/paths.js';
import { StreamingRecognizer, type StreamWindow, windowModel } from '../../src/stream/index.js';
import { RunModel, allPredicted, defaultModelDir, predictSegments } from '../../src/infer/inference.js';
import { assertSameWindows, timelineOf, wav } from '../stream/windows.js';
import { type DemoServer, startDemoServer } from '../../src/web/demo/server.js';

const CHROMIUM = '/usr/bin/chromium';
/** onnxruntime-web (WebAssembly) vs onnxruntime-node on the same windows: measured 2.2e-6 (2026-12-04, 44.1 kHz fake microphone). */
const TOLERANCE = 1e-4;
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;

const scratch = mkdtempSync(join(tmpdir(), 'ser-demo-'));
const micFile = join(scratch, 'mic.wav');
const dropFile = join(scratch, 'drop.wav');
let server: DemoServer;
let browser: Browser;
let page: Page;
let model: RunModel;

/** Real speech: RAVDESS clips of assets/corpus (actor 03) joined, with `gapS` of digital silence after the second. */
async function speech(seconds: number, gapS: number): Promise<Float32Array> {
  const dir = assetPath('corpus', 'ravdess', 'Actor_03');
  const out = new Float32Array(Math.round(seconds * 16000));
  let at = 0;
  for (const [i, file] of readdirSync(dir)
    .sort()
    .filter((_, k) => k % 5 === 0)
    .entries()) {
    if (at >= out.length) break;
    const { samples } = await loadAudio(join(dir, file));
    out.set(samples.subarray(0, out.length - at), at);
    at += samples.length + (i === 1 ? Math.round(gapS * 16000) : 0);
  }
  return out;
}

/** Waits until the page's #status says one of `states`. */
async function waitForStatus(states: readonly string[], timeout: number): Promise<void> {
  await page.waitForSelector(states.map((s) => `#status[data-status="${s}"]`).join(', '), { timeout });
}

/** Runs `body`; on failure saves a screenshot of the page to a temp folder and says where. */
async function withScreenshot(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const dir = mkdtempSync(join(tmpdir(), 'ser-demo-failure-'));
    const path = join(dir, `${name}.png`);
    await page?.screenshot({ path, fullPage: true }).catch(() => undefined);
    const state = await page
      ?.evaluate(() => JSON.stringify((globalThis as { speechEmotionDemo?: { status: string; error?: string } }).speechEmotionDemo ?? null))
      .catch(() => '?');
    console.error(`demo test '${name}' failed: screenshot ${path}; page state ${state?.slice(0, 2000)}`);
    throw error;
  }
}

it('DEFAULT_MODEL_URL of speech-emotion/web points at the shipped model in the package', async () => {
  // The package's own build (dist/web/index.js, as installed; npm test builds dist first): tests run from build/src,
  // where the URL would point into build/. Bundled, it is resolved against the page (the browser test below).
  const web = pathToFileURL(join(packageRoot(), 'dist', 'web', 'index.js')).href;
  const { DEFAULT_MODEL_URL } = (await import(web)) as { DEFAULT_MODEL_URL: string };
  assert.equal(fileURLToPath(DEFAULT_MODEL_URL), `${defaultModelDir()}${sep}`);
  assert.ok(existsSync(join(fileURLToPath(DEFAULT_MODEL_URL), 'model.onnx')));
});

describe('demo page in Chromium (playwright-core)', { skip }, () => {
  before(async () => {
    writeFileSync(micFile, wav(await speech(6.5, 0), 16000));
    writeFileSync(dropFile, wav(await speech(12, 3.5), 16000));
    model = await RunModel.load(undefined, { threads: 1 });
    server = await startDemoServer({ port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${micFile}%noloop`,
      ],
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${server.url}?stopAfterS=7.5`);
    await waitForStatus(['ready', 'error'], 60_000);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await model?.release();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`microphone: the live timeline equals the Node streaming recognizer and ser predict --segments on the captured audio (probabilities within ${TOLERANCE})`, async () => {
    await withScreenshot('microphone', async () => {
      assert.equal(await page.getAttribute('#status', 'data-status'), 'ready', (await page.textContent('#status')) ?? '');
      await page.click('#mic');
      // The fake microphone plays the 6.5 s file once, in real time; the page stops by itself after 7.5 s of audio
      // (?stopAfterS: under load, polling the page from here is slow, and 'listening' may come and go unseen).
      await waitForStatus(['stopped', 'error'], 90_000);
      const { live, rate, base64, latencyMs } = await page.evaluate(() => {
        const s = (
          globalThis as unknown as {
            speechEmotionDemo: { live: StreamWindow[]; latencyMs: number[]; captureRateHz: number; capturedBase64(): string };
          }
        ).speechEmotionDemo;
        return { live: s.live, rate: s.captureRateHz, base64: s.capturedBase64(), latencyMs: s.latencyMs };
      });
      const bytes = Buffer.from(base64, 'base64');
      const captured = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      assert.ok(
        live.some((w) => w.speech),
        `speech windows in the live timeline: ${JSON.stringify(live.map((w) => w.label))}`,
      );
      const entries = page.locator('#live .window');
      const shown: Array<[number, string | null]> = [];
      for (let i = 0; i < (await entries.count()); i++) {
        shown.push([Number(await entries.nth(i).getAttribute('data-start')), await entries.nth(i).getAttribute('data-label')]);
      }
      assert.deepEqual(
        shown,
        live.map((w) => [w.startS, w.label]),
        'the DOM timeline shows every window',
      );

      const node = new StreamingRecognizer(windowModel(model), { inputRateHz: rate });
      const replayed = [...(await node.push(captured)), ...(await node.end())];
      const worstStream = assertSameWindows(live, replayed, 'page vs Node streaming recognizer', TOLERANCE);
      const file = join(scratch, 'captured.wav');
      writeFileSync(file, wav(captured, rate));
      const [predicted] = allPredicted(await predictSegments(undefined, [file], { threads: 1 }));
      const speechOnly = live.filter((w) => w.speech);
      const worstPredict = assertSameWindows(
        speechOnly,
        timelineOf(predicted!).filter((_, i) => live[i]!.speech),
        'page vs ser predict --segments (speech windows)',
        TOLERANCE,
      );
      console.log(
        `microphone: ${(captured.length / rate).toFixed(2)} s at ${rate} Hz, ${live.length} windows (${speechOnly.length} speech); ` +
          `largest probability difference vs Node stream ${worstStream.toExponential(2)}, vs ser predict ${worstPredict.toExponential(2)}; ` +
          `in-page latency per window (ms, push of its last chunk to result): ${latencyMs.map((ms) => ms.toFixed(0)).join(', ')}`,
      );
    });
  });

  it("file drop: the segment timeline equals ser predict --segments (speech windows; the 3.5 s pause is silence), overall label their mean's", async () => {
    await withScreenshot('file-drop', async () => {
      await page.setInputFiles('#file', dropFile);
      await waitForStatus(['file-done', 'error'], 60_000);
      const file = await page.evaluate(
        () =>
          (
            globalThis as unknown as {
              speechEmotionDemo: { file: { windows: StreamWindow[]; label: string | null; probabilities: Record<string, number> } };
            }
          ).speechEmotionDemo.file,
      );
      const [predicted] = allPredicted(await predictSegments(undefined, [dropFile], { threads: 1 }));
      const windows = file.windows;
      assert.equal(windows.length, timelineOf(predicted!).length);
      assert.ok(
        windows.some((w) => !w.speech),
        `the pause is reported as silence: ${JSON.stringify(windows.map((w) => w.label))}`,
      );
      const speechWindows = windows.filter((w) => w.speech);
      assertSameWindows(
        speechWindows,
        timelineOf(predicted!).filter((_, i) => windows[i]!.speech),
        'file drop vs ser predict --segments',
        TOLERANCE,
      );
      const labels = model.config.labels;
      const mean = labels.map((l) => speechWindows.reduce((s, w) => s + (w.probabilities[l] as number), 0) / speechWindows.length);
      assert.equal(file.label, labels[mean.indexOf(Math.max(...mean))]);
      assert.equal(await page.getAttribute('#overall', 'data-label'), file.label);
      assert.equal(await page.locator('#file-timeline .window').count(), windows.length);
    });
  });
});
