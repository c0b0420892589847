/**
 * Worker threads making recordings' input windows (window-worker.ts: read, decode, resample, judge, front end)
 * while the main thread runs the model: decoding, not the model, is most of `ser predict`'s time on many files
 * (docs/benchmark-log.md, "Many files: `ser predict` decodes on worker threads"). A WorkerPool (src/io/worker-pool.ts):
 * each worker takes one file at a time; the files wait in the pool's queue in the order given. The windows are those
 * of the main thread to the bit: the same code on the same samples.
 */
import type { BandNormalizer } from '../features/speaker-norm.js';
import { WorkerPool } from '../io/worker-pool.js';
import type { RunConfig } from './model-use.js';
import type { WindowResult } from './window-worker.js';

export class RecordingWindowPool extends WorkerPool<string, WindowResult> {
  /** `size` workers making the windows of `config`'s model (RecordingInputs; normalised with `speaker`'s statistics when given). */
  constructor(config: RunConfig, size: number, speaker?: BandNormalizer) {
    super({
      module: 'window-worker',
      callerUrl: import.meta.url,
      size,
      workerData: { config, speaker },
      errorModule: 'predict',
      role: 'decoding',
    });
  }

  /** `file`'s windows, or its FlaggedPrediction / FailedPrediction, as recording-windows.ts recordingWindows gives them. */
  windowsOf(file: string): Promise<WindowResult> {
    return this.run(file);
  }
}
