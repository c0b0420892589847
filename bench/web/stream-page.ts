/**
 * The page bench/web-stream.ts opens in headless Chromium: loads the shipped model through speech-emotion/web
 * (src/web, onnxruntime-web, WebAssembly), fetches the decoded speech (float32 samples at the job's rate), warms up
 * with one window, then pushes the speech into recognizer.stream() with the same loop as the Node peer
 * (bench/stream-pace.ts) and leaves the result in window.streamBench.
 */
import { EmotionRecognizer } from '../../src/web/index.js';
import { type PaceResult, paceStream } from '../stream-pace.js';

declare const navigator: { userAgent: string };
declare const crossOriginIsolated: boolean;
declare const window: { streamBench?: { result?: StreamBenchResult; error?: string } };

/** What bench/web-stream.ts serves as /job.json. */
export interface StreamJob {
  rateHz: number;
  chunkMs: number;
  windowS: number;
  hopS: number;
  threads: number;
  realTime: boolean;
}

export interface StreamBenchResult extends PaceResult {
  userAgent: string;
  crossOriginIsolated: boolean;
  loadMs: number;
}

async function main(): Promise<void> {
  const job = (await (await fetch('/job.json')).json()) as StreamJob;
  const started = performance.now();
  const recognizer = await EmotionRecognizer.load(new URL('/model/', location.href).href, { threads: job.threads, wasmPaths: '/ort/' });
  const loadMs = performance.now() - started;
  const samples = new Float32Array(await (await fetch('/speech.f32')).arrayBuffer());
  // Warm-up: one window through ORT before timing (as the Node peer).
  await recognizer.stream({ inputRateHz: job.rateHz, speechGate: null }).push(samples.subarray(0, 3 * job.rateHz));
  const stream = recognizer.stream({ inputRateHz: job.rateHz, windowS: job.windowS, hopS: job.hopS });
  const paced = await paceStream(stream, samples, { rateHz: job.rateHz, chunkMs: job.chunkMs, realTime: job.realTime });
  await recognizer.release();
  window.streamBench = { result: { ...paced, userAgent: navigator.userAgent, crossOriginIsolated, loadMs } };
}

declare const location: { href: string };

main().catch((error: unknown) => {
  window.streamBench = { error: String((error as Error)?.stack ?? error) };
});
