/**
 * Streaming latency and real-time factor (issue 10): real speech pushed into the StreamingRecognizer (src/stream,
 * the default model, onnxruntime-node) in chunks of --chunk-ms (default 20 ms, a microphone's or telephony
 * bridge's frame), as fast as it can take them, or with --real-time each chunk when its last sample would arrive
 * live. Latency of a window = time of the push of the chunk holding the window's last sample (the recognizer
 * answers as soon as that sample is in, so this is the work of that push: resampling, voice-activity, features and
 * model); with --real-time also the time from the window's last sample to its result. RTF = total processing
 * time / audio duration. The loop: bench/stream-pace.ts (shared with the browser bench, bench/web-stream.ts).
 *
 *   npx tsx bench/stream.ts [--seconds 60] [--chunk-ms 20] [--window 3] [--hop 1] [--rate 16000] [--threads 1] [--real-time] [--json]
 *
 * Audio: RAVDESS clips of assets/corpus joined (actors 01-06, in order) to --seconds, resampled to --rate first
 * when it is not 16 kHz (bench/speech.ts).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { StreamingRecognizer, windowModel } from '../src/stream/index.js';
import { RunModel } from '../src/infer/inference.js';
import { joinedSpeech } from './speech.js';
import { paceStream, spread } from './stream-pace.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'chunk-ms': { type: 'string', default: '20' },
    window: { type: 'string', default: '3' },
    hop: { type: 'string', default: '1' },
    rate: { type: 'string', default: '16000' },
    threads: { type: 'string', default: '1' },
    'real-time': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const rate = Number(args.rate);
const input = await joinedSpeech(seconds, rate);

const model = await RunModel.load(undefined, { threads: Number(args.threads) });
const recognizer = new StreamingRecognizer(windowModel(model), { inputRateHz: rate, windowS: Number(args.window), hopS: Number(args.hop) });
// Warm-up: one window through ORT before timing.
await new StreamingRecognizer(windowModel(model), { inputRateHz: rate, speechGate: null }).push(input.subarray(0, 3 * rate));
const paced = await paceStream(recognizer, input, { rateHz: rate, chunkMs: Number(args['chunk-ms']), realTime: args['real-time'] });
await model.release();

const push = spread(paced.pushMs);
const live = spread(paced.latencyMs);
const result = {
  audioS: seconds,
  inputRateHz: rate,
  chunkMs: Number(args['chunk-ms']),
  windowS: Number(args.window),
  hopS: Number(args.hop),
  threads: Number(args.threads),
  realTime: args['real-time'],
  windows: paced.windows,
  silentWindows: paced.silentWindows,
  latencyMsMedian: push.median,
  latencyMsP95: push.p95,
  latencyMsMax: push.max,
  ...(args['real-time']
    ? { lastSampleToResultMsMedian: live.median, lastSampleToResultMsP95: live.p95, lastSampleToResultMsMax: live.max }
    : {}),
  realTimeFactor: Number((paced.busyMs / 1000 / seconds).toFixed(4)),
  loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
  node: process.version,
};
if (args.json) console.log(JSON.stringify(result));
else {
  console.log(
    `${seconds} s of speech at ${rate} Hz in ${result.chunkMs} ms chunks${result.realTime ? ' (real time)' : ''}, ${result.windowS} s windows every ${result.hopS} s, ${result.threads} ORT thread(s)`,
  );
  console.log(
    `${paced.windows} windows (${paced.silentWindows} silence): latency (push) median ${push.median} ms, p95 ${push.p95} ms, max ${push.max} ms`,
  );
  if (result.realTime) console.log(`last sample to result: median ${live.median} ms, p95 ${live.p95} ms, max ${live.max} ms`);
  console.log(`real-time factor ${result.realTimeFactor} (processing time / audio time); load average ${result.loadAverage1m}`);
}
