/**
 * Dropout masks for the next training step, made on a low-priority worker thread while ONNX Runtime runs the
 * current one. onnxruntime-node keeps the cores busy during a step, so a worker at normal priority would only take
 * CPU from ORT's threads; at the lowest priority (nice 19, set by the worker on its own thread, on Linux) it runs
 * in the time ORT leaves a core idle, which takes mask generation (src/nn/dropout.ts) off the step's critical path
 * (measurements: docs/benchmark-log.md).
 *
 * The worker (dropout-worker.ts, a module of its own) runs `fillDropoutMask`. The generator state travels with
 * every request and reply, so the masks are exactly those of DropoutMaskGenerator.fill called in the same order
 * on the main thread. Buffer sets are reused (one fed to the running step, one being filled), transferred, never
 * copied. On a busy machine a nice-19 thread gets almost no CPU, so next() waits at most `graceMs` for the worker
 * and otherwise makes the masks itself from the same state (same masks).
 */
import type { Worker } from 'node:worker_threads';
import { SerError } from '../errors.js';
import { startModuleWorker } from '../io/worker.js';
import { type DropoutMaskInput, DropoutMaskGenerator, fillDropoutMask } from '../nn/index.js';
import { sizeOf } from '../shape.js';

interface Reply {
  state: Int32Array;
  buffers: ArrayBuffer[];
}

export class DropoutMaskPrefetcher {
  private readonly inputs: readonly DropoutMaskInput[];
  private readonly ratios: number[];
  private worker: Worker | null = null;
  /** Generator state of the next step's masks. */
  private state: Int32Array;
  /**
   * The request in flight (at most one), started from the current state; its reply once it came. Stale once
   * the state moved on without it (reseed, or masks made here): then only its buffers are taken back.
   */
  private pending: { reply: Reply | null; stale: boolean; arrived: Promise<void> } | null = null;
  private workerFailed = false;
  private readonly graceMs: number;
  /** Buffer sets free for the next fill. */
  private readonly spare: ArrayBuffer[][] = [];
  /** The set handed out by the last next(), free again once that step has run. */
  private lastHandedOut: ArrayBuffer[] | null = null;

  /** `graceMs`: how long next() waits for a fill in flight before making the masks itself (default 15 ms, under the ~20 ms that takes). */
  constructor(inputs: readonly DropoutMaskInput[], seed: number, options: { graceMs?: number } = {}) {
    this.graceMs = options.graceMs ?? 15;
    this.inputs = inputs;
    this.ratios = inputs.map((input) => input.ratio);
    this.state = new DropoutMaskGenerator(seed).state;
  }

  /** Restarts the mask sequence from `seed` (a fill in flight is thrown away when it comes back). */
  reseed(seed: number): void {
    this.state = new DropoutMaskGenerator(seed).state;
    if (this.pending) this.pending.stale = true;
  }

  /**
   * The masks of the next step, with their inputs. Valid until the following call, which starts refilling
   * them: call it only after the step that used them has run. When the worker has not finished (a busy
   * machine gives a nice-19 thread almost no CPU), the masks are made here instead, never waited for.
   */
  async next(): Promise<{ input: DropoutMaskInput; data: Float32Array }[]> {
    if (this.inputs.length === 0) return [];
    const inFlight = this.pending;
    if (inFlight && !inFlight.reply && !inFlight.stale) {
      await Promise.race([inFlight.arrived, new Promise<void>((resolve) => setTimeout(resolve, this.graceMs))]);
    }
    if (this.lastHandedOut) this.spare.push(this.lastHandedOut); // its step has run
    let buffers: ArrayBuffer[];
    const pending = this.pending;
    if (pending?.reply && !pending.stale) {
      buffers = pending.reply.buffers;
      this.state = pending.reply.state;
      this.pending = null;
    } else {
      if (pending) pending.stale = true; // late or outdated: its buffers return to `spare` when it replies
      buffers = this.spare.pop() ?? this.freshBuffers();
      const state = this.state.slice();
      buffers.forEach((buffer, i) => {
        fillDropoutMask(state, new Float32Array(buffer), this.ratios[i] as number);
      });
      this.state = state;
    }
    this.lastHandedOut = buffers;
    if (!this.pending || this.pending.reply) {
      if (this.pending?.reply) this.spare.push(this.pending.reply.buffers); // a stale reply's buffers
      this.request(this.spare.pop() ?? this.freshBuffers());
    }
    return buffers.map((buffer, i) => ({ input: this.inputs[i] as DropoutMaskInput, data: new Float32Array(buffer) }));
  }

  async release(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.pending = null;
    if (worker) await worker.terminate();
  }

  private freshBuffers(): ArrayBuffer[] {
    return this.inputs.map((input) => new ArrayBuffer(4 * sizeOf(input.shape)));
  }

  /** Starts filling `buffers` from the current state on the worker (its reply is picked up by next()). */
  private request(buffers: ArrayBuffer[]): void {
    if (this.workerFailed) {
      this.spare.push(buffers);
      return;
    }
    const worker = this.ensureWorker();
    let arrive = () => {};
    const arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const pending = { reply: null as Reply | null, stale: false, arrived };
    this.pending = pending;
    const state = this.state.slice();
    worker.once('message', (reply: Reply) => {
      pending.reply = reply;
      arrive();
      if (pending.stale && this.pending === pending) {
        // Nobody will use it: take its buffers back and let the next call start a fresh request.
        this.spare.push(reply.buffers);
        this.pending = null;
      }
    });
    worker.postMessage({ state, buffers, ratios: this.ratios }, [state.buffer as ArrayBuffer, ...buffers]);
  }

  private ensureWorker(): Worker {
    if (!this.worker) {
      this.worker = startModuleWorker('dropout-worker', import.meta.url);
      this.worker.unref(); // never keeps the process alive
      this.worker.on('error', (error) => {
        // From now on the masks are made on the main thread.
        this.workerFailed = true;
        this.worker = null;
        this.pending = null;
        process.emitWarning(
          new SerError('ERUNTIME', 'trainer', `dropout mask worker failed, masks made on the main thread: ${error.message}`),
        );
      });
    }
    return this.worker;
  }
}
