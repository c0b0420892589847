/**
 * The worker thread of DropoutMaskPrefetcher (dropout-prefetch.ts): fills the dropout masks it is sent with
 * fillDropoutMask from the generator state that comes with them, and sends both back (transferred, not copied).
 */
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { fillDropoutMask } from '../nn/dropout.js';

/** What the prefetcher sends: generator state, one buffer per mask, and each mask's drop ratio. */
export interface MaskRequest {
  state: Int32Array;
  buffers: ArrayBuffer[];
  ratios: number[];
}

// Lowest priority for this thread only: Linux applies setpriority(PRIO_PROCESS, 0) to the calling thread (other
// systems to the whole process, so they keep the default).
if (process.platform === 'linux') {
  try {
    setPriority(19);
  } catch {
    // not permitted: run at the default priority
  }
}

parentPort?.on('message', ({ state, buffers, ratios }: MaskRequest) => {
  buffers.forEach((buffer, i) => {
    fillDropoutMask(state, new Float32Array(buffer), ratios[i] as number);
  });
  parentPort?.postMessage({ state, buffers }, [state.buffer as ArrayBuffer, ...buffers]);
});
