/**
 * The streaming benchmarks' measurement loop, shared by Node (bench/stream.ts, bench/web-stream.ts's peer) and the
 * browser page (bench/web/stream-page.ts), so both sides time the same thing. Uses only performance.now and
 * setTimeout (no Node or DOM APIs).
 *
 * `samples` (mono, at `rateHz`) go to the recognizer in chunks of `chunkMs`, each awaited before the next:
 *   - realTime false: as fast as the recognizer takes them;
 *   - realTime true: chunk k is pushed when its last sample would have arrived from a live source (t0 + its end
 *     time), as a microphone or telephony frame would; a push that is late (the previous one still busy, a late
 *     timer) goes as soon as it can.
 * Per window: pushMs = duration of the push that returned it (the work of that push: resampling, voice activity,
 * features, model); with realTime, latencyMs = from the moment the window's last sample arrived (t0 + endS) to its
 * result, so it adds the wait for the rest of the chunk, any backlog and timer lateness. busyMs sums every push's
 * duration and end()'s: real-time factor = busyMs / 1000 / audio seconds.
 */

/** The part of StreamingRecognizer (src/stream; speech-emotion/web's recognizer.stream()) used here. */
export interface PushStream {
  push(chunk: Float32Array): Promise<ReadonlyArray<{ endS: number; speech: boolean }>>;
  end(): Promise<ReadonlyArray<{ speech: boolean }>>;
}

export interface PaceOptions {
  /** Sample rate of `samples`, Hz. */
  rateHz: number;
  /** Chunk length, ms (rounded to whole samples). */
  chunkMs: number;
  realTime: boolean;
}

export interface PaceResult {
  audioS: number;
  /** Windows returned by push() and end(). */
  windows: number;
  silentWindows: number;
  /** Per window returned by push(): duration of that push, ms. */
  pushMs: number[];
  /** realTime only (else empty): per window returned by push(), ms from its last sample's arrival to its result. */
  latencyMs: number[];
  /** Time inside push() and end(), ms. */
  busyMs: number;
}

export async function paceStream(stream: PushStream, samples: Float32Array, options: PaceOptions): Promise<PaceResult> {
  const chunk = Math.max(1, Math.round((options.chunkMs / 1000) * options.rateHz));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const result: PaceResult = {
    audioS: samples.length / options.rateHz,
    windows: 0,
    silentWindows: 0,
    pushMs: [],
    latencyMs: [],
    busyMs: 0,
  };
  const t0 = performance.now();
  const due = (sample: number) => t0 + (sample / options.rateHz) * 1000 - performance.now();
  for (let at = 0; at < samples.length; at += chunk) {
    const end = Math.min(at + chunk, samples.length);
    // Timers may fire a fraction of a millisecond early (Node): sleep again until the chunk's last sample is due.
    for (let wait = due(end); options.realTime && wait > 0; wait = due(end)) await sleep(wait);
    const start = performance.now();
    const windows = await stream.push(samples.subarray(at, end));
    const done = performance.now();
    result.busyMs += done - start;
    for (const w of windows) {
      result.windows++;
      if (!w.speech) result.silentWindows++;
      result.pushMs.push(done - start);
      if (options.realTime) result.latencyMs.push(done - (t0 + w.endS * 1000));
    }
  }
  const start = performance.now();
  const last = await stream.end();
  result.busyMs += performance.now() - start;
  result.windows += last.length;
  result.silentWindows += last.filter((w) => !w.speech).length;
  return result;
}

/** Median, 95th percentile and maximum of `values` (NaN when empty), rounded to 0.1. */
export function spread(values: readonly number[]): { median: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { median: round(quantile(0.5)), p95: round(quantile(0.95)), max: round(sorted[sorted.length - 1] ?? Number.NaN) };
}
