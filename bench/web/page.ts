/**
 * The page bench/web-browser.ts opens in headless Chromium: loads a run through speech-emotion/web (src/web),
 * decodes each clip with WebAudio (OfflineAudioContext.decodeAudioData, the browser's own decoder), classifies
 * it, and posts the predictions and timings back to the bench's server.
 */
import { EmotionRecognizer } from '../../src/web/index.js';

// The browser globals used here (the project compiles without the DOM library).
declare const OfflineAudioContext: new (
  channels: number,
  length: number,
  sampleRate: number,
) => {
  decodeAudioData(bytes: ArrayBuffer): Promise<{ numberOfChannels: number; sampleRate: number; getChannelData(c: number): Float32Array }>;
};
declare const navigator: { userAgent: string };
declare const crossOriginIsolated: boolean;

interface Job {
  clips: string[];
  threads: number;
  repeats: number;
}

async function main(): Promise<void> {
  const job = (await (await fetch('/job.json')).json()) as Job;
  const started = performance.now();
  const recognizer = await EmotionRecognizer.create(
    { model: await (await fetch('/run/model.onnx')).arrayBuffer(), config: await (await fetch('/run/config.json')).json() },
    { threads: job.threads, wasmPaths: '/ort/' },
  );
  const createMs = performance.now() - started;
  const results = [];
  for (const clip of job.clips) {
    const bytes = await (await fetch(`/clips/${encodeURIComponent(clip)}`)).arrayBuffer();
    const audio = await new OfflineAudioContext(1, 1, 48000).decodeAudioData(bytes);
    const prediction = await recognizer.classify(audio, clip);
    const times: number[] = [];
    for (let i = 0; i < job.repeats; i++) {
      const t0 = performance.now();
      await recognizer.classify(audio, clip);
      times.push(performance.now() - t0);
    }
    results.push({
      clip,
      decodedRateHz: audio.sampleRate,
      ...prediction,
      msPerClip: times.sort((a, b) => a - b)[Math.floor(times.length / 2)],
    });
  }
  await recognizer.release();
  await fetch('/result', {
    method: 'POST',
    body: JSON.stringify({ userAgent: navigator.userAgent, crossOriginIsolated, createMs, results }),
  });
}

main().catch(async (error: unknown) => {
  await fetch('/result', { method: 'POST', body: JSON.stringify({ error: String((error as Error)?.stack ?? error) }) });
});
