/**
 * A worker thread of RecordingWindowPool (window-pool.ts): makes the input windows of the files it is sent
 * (recording-windows.ts, the code predictFiles runs on the main thread without a pool) and sends them back, the
 * windows transferred, not copied. An exception goes back to the pool, which throws it (src/io/worker-pool.ts).
 */
import { workerData } from 'node:worker_threads';
import type { BandNormalizer } from '../features/speaker-norm.js';
import { serveTasks, transferable } from '../io/worker-pool.js';
import { RecordingInputs, type RunConfig } from './model-use.js';
import { recordingWindows } from './recording-windows.js';

/** What the worker makes of a file: recording-windows.ts recordingWindows's result. */
export type WindowResult = Awaited<ReturnType<typeof recordingWindows>>;

const { config, speaker } = workerData as { config: RunConfig; speaker?: BandNormalizer };
const inputs = new RecordingInputs(config, speaker);

serveTasks<string, WindowResult>(async (file: string) => {
  const result = await recordingWindows(file, inputs);
  if (!('windows' in result)) return { result };
  result.windows = transferable(result.windows);
  return { result, transfer: [result.windows.buffer as ArrayBuffer] };
});
