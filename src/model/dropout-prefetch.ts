/**
 * Dropout masks for the next training step, made on a low-priority worker thread while ONNX Runtime runs the
 * current one. onnxruntime-node runs a session on the JS main thread and keeps the two cores ~1.8 busy, so a
 * worker at normal priority only takes CPU from ORT's threads (measured: no gain); at the lowest priority
 * (nice 19, set by the worker on its own thread, on Linux) it runs in the time ORT leaves a core idle: the
 * ~20 ms of mask generation per paper-size step (src/nn/dropout.ts) left the step's critical path (the next
 * step waits ~1-2 ms for its masks; step 330 -> 320 ms median, .scratch A/B in BENCHMARKS.md).
 *
 * The worker runs `fillDropoutMask` from its source text (a worker file would need separate entries for the
 * compiled package and for tsx). The generator state travels with every request and reply, so the masks are
 * exactly those of DropoutMaskGenerator.fill called in the same order on the main thread. Two buffer sets
 * alternate (one fed to the running step, one being filled), transferred, never copied.
 */
import { Worker } from 'node:worker_threads';
import { SerError } from '../errors.js';
import { type DropoutMaskInput, DropoutMaskGenerator, fillDropoutMask } from '../nn/index.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
// Lowest priority for this thread only: Linux applies setpriority(PRIO_PROCESS, 0) to the calling thread (other
// systems to the whole process, so they keep the default).
if (process.platform === 'linux') { try { require('node:os').setPriority(19); } catch {} }
const fillDropoutMask = ${fillDropoutMask.toString()};
parentPort.on('message', ({ state, buffers, ratios }) => {
  buffers.forEach((buffer, i) => fillDropoutMask(state, new Float32Array(buffer), ratios[i]));
  parentPort.postMessage({ state, buffers }, [state.buffer, ...buffers]);
});
`;

interface Reply {
  state: Int32Array;
  buffers: ArrayBuffer[];
}

export class DropoutMaskPrefetcher {
  private readonly inputs: readonly DropoutMaskInput[];
  private readonly ratios: number[];
  private worker: Worker | null = null;
  private state: Int32Array;
  /** The set being filled for the next step, and whether it was started before the last reseed. */
  private pending: { reply: Promise<Reply>; stale: boolean } | null = null;
  /** The set handed out by the last next(), free again once that step has run. */
  private lastHandedOut: ArrayBuffer[] | null = null;

  constructor(inputs: readonly DropoutMaskInput[], seed: number) {
    this.inputs = inputs;
    this.ratios = inputs.map((input) => input.ratio);
    this.state = new DropoutMaskGenerator(seed).state;
  }

  /** Restarts the mask sequence from `seed` (a fill in flight is finished and thrown away). */
  reseed(seed: number): void {
    this.state = new DropoutMaskGenerator(seed).state;
    if (this.pending) this.pending.stale = true;
  }

  /**
   * The masks of the next step, in `inputs` order. Valid until the following call, which starts refilling
   * them: call it only after the step that used them has run.
   */
  async next(): Promise<Float32Array[]> {
    if (this.inputs.length === 0) return [];
    let reply: Reply;
    if (this.pending && !this.pending.stale) {
      reply = await this.pending.reply;
    } else {
      const buffers = this.pending ? (await this.pending.reply).buffers : this.freshBuffers();
      reply = await this.request(this.state, buffers);
    }
    this.state = reply.state;
    // Start the following step's masks now, into the set the previous step used (it has run by now).
    this.pending = { reply: this.request(this.state.slice(), this.lastHandedOut ?? this.freshBuffers()), stale: false };
    this.lastHandedOut = reply.buffers;
    return reply.buffers.map((buffer) => new Float32Array(buffer));
  }

  async release(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.pending = null;
    if (worker) await worker.terminate();
  }

  private freshBuffers(): ArrayBuffer[] {
    return this.inputs.map((input) => new ArrayBuffer(4 * input.shape.reduce((a, b) => a * b, 1)));
  }

  /** Fills `buffers` from `state` on the worker; the reply carries the advanced state and the filled buffers. */
  private request(state: Int32Array, buffers: ArrayBuffer[]): Promise<Reply> {
    const worker = this.ensureWorker();
    return new Promise<Reply>((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        worker.off('error', onError);
        resolve(reply);
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(new SerError('ERUNTIME', 'trainer', `dropout mask worker failed: ${error.message}`, { cause: error }));
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage({ state, buffers, ratios: this.ratios }, [state.buffer as ArrayBuffer, ...buffers]);
    });
  }

  private ensureWorker(): Worker {
    if (!this.worker) {
      this.worker = new Worker(WORKER_SOURCE, { eval: true });
      this.worker.unref(); // never keeps the process alive
    }
    return this.worker;
  }
}
