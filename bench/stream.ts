/**
 * Streaming latency and real-time factor (issue 10): real speech pushed into the StreamingRecognizer (src/stream,
 * the default model, onnxruntime-node) in chunks of --chunk-ms (default 20 ms, a microphone's or telephony
 * bridge's frame), as fast as it can take them. Latency of a window = time from pushing the chunk holding the
 * window's last sample to its result (the recognizer answers as soon as that sample is in, so this is the work
 * of that push: resampling, voice-activity, features and model); RTF = total processing time / audio duration.
 *
 *   npx tsx bench/stream.ts [--seconds 60] [--chunk-ms 20] [--window 3] [--hop 1] [--rate 16000] [--threads 1] [--json]
 *
 * Audio: RAVDESS clips of assets/corpus joined (actors 01-06, in order) to --seconds, resampled to --rate first
 * when it is not 16 kHz (the recognizer resamples back, as it does a 44.1/48 kHz microphone).
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio, resample } from '../src/audio/index.js';
import { assetPath } from '../src/io/paths.js';
import { StreamingRecognizer, windowModel } from '../src/stream/index.js';
import { RunModel } from '../src/infer/inference.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'chunk-ms': { type: 'string', default: '20' },
    window: { type: 'string', default: '3' },
    hop: { type: 'string', default: '1' },
    rate: { type: 'string', default: '16000' },
    threads: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const rate = Number(args.rate);

const speech = new Float32Array(seconds * 16000);
let filled = 0;
for (const actor of ['01', '02', '03', '04', '05', '06']) {
  const dir = assetPath('corpus', 'ravdess', `Actor_${actor}`);
  for (const file of readdirSync(dir).sort()) {
    if (filled >= speech.length) break;
    const { samples } = await loadAudio(join(dir, file));
    speech.set(samples.subarray(0, speech.length - filled), filled);
    filled += samples.length;
  }
}
const input = rate === 16000 ? speech : resample(speech, 16000, rate);
const chunk = Math.round((Number(args['chunk-ms']) / 1000) * rate);

const model = await RunModel.load(undefined, { threads: Number(args.threads) });
const recognizer = new StreamingRecognizer(windowModel(model), { inputRateHz: rate, windowS: Number(args.window), hopS: Number(args.hop) });
// Warm-up: one window through ORT before timing.
await new StreamingRecognizer(windowModel(model), { inputRateHz: 16000, speechGate: null }).push(speech.subarray(0, 48000));

const latencies: number[] = [];
let busyMs = 0;
let windows = 0;
let silent = 0;
for (let at = 0; at < input.length; at += chunk) {
  const start = performance.now();
  const results = await recognizer.push(input.subarray(at, at + chunk));
  const ms = performance.now() - start;
  busyMs += ms;
  for (const w of results) {
    latencies.push(ms);
    windows++;
    if (!w.speech) silent++;
  }
}
const start = performance.now();
windows += (await recognizer.end()).length;
busyMs += performance.now() - start;
await model.release();

const sorted = [...latencies].sort((a, b) => a - b);
const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const result = {
  audioS: seconds,
  inputRateHz: rate,
  chunkMs: Number(args['chunk-ms']),
  windowS: Number(args.window),
  hopS: Number(args.hop),
  threads: Number(args.threads),
  windows,
  silentWindows: silent,
  latencyMsMedian: Number(quantile(0.5).toFixed(1)),
  latencyMsP95: Number(quantile(0.95).toFixed(1)),
  latencyMsMax: Number(sorted[sorted.length - 1]?.toFixed(1)),
  realTimeFactor: Number((busyMs / 1000 / seconds).toFixed(4)),
  loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  node: process.version,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(
    `${seconds} s of speech at ${rate} Hz in ${result.chunkMs} ms chunks, ${result.windowS} s windows every ${result.hopS} s, ${result.threads} ORT thread(s)`,
  );
  console.log(
    `${windows} windows (${silent} silence): latency median ${result.latencyMsMedian} ms, p95 ${result.latencyMsP95} ms, max ${result.latencyMsMax} ms`,
  );
  console.log(`real-time factor ${result.realTimeFactor} (processing time / audio time); load average ${result.loadAverage1m}`);
}
