/**
 * Worker threads making recordings' input windows (window-worker.ts: read, decode, resample, judge, front end)
 * while the main thread runs the model: decoding, not the model, is most of `ser predict`'s time on many files
 * (an nEMO Opus clip: ~11 ms to decode, ~2.5 ms of front end, ~5 ms of model). Each worker takes one file at a
 * time; the files wait in the pool's queue in the order given. The windows are those of the main thread to the bit:
 * the same code on the same samples.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { SerError, type SerErrorCode } from '../errors.js';
import { startModuleWorker } from '../io/worker.js';
import type { RunConfig } from './model-use.js';
import type { FailedPrediction, FlaggedPrediction, RecordingWindows } from './recording-windows.js';
import type { WindowReply, WindowTask } from './window-worker.js';

/** Most decoding workers by default: beyond this the model on the main thread is the bottleneck. */
export const MAX_DEFAULT_JOBS = 4;

/** Decoding workers by default: one per core, at most MAX_DEFAULT_JOBS. */
export function defaultJobs(): number {
  return Math.min(availableParallelism(), MAX_DEFAULT_JOBS);
}

type WindowResult = RecordingWindows | FlaggedPrediction | FailedPrediction;

interface Task {
  id: number;
  file: string;
  resolve: (result: WindowResult) => void;
  reject: (error: Error) => void;
}

export class RecordingWindowPool {
  private readonly workers: Worker[] = [];
  /** Files not yet sent to a worker, first come first sent. */
  private readonly queue: Task[] = [];
  /** The task each busy worker is on. */
  private readonly running = new Map<Worker, Task>();
  private readonly idle: Worker[] = [];
  private nextId = 0;
  /** Set when a worker died or the pool was closed: every later call rejects with it. */
  private broken: Error | null = null;

  /** `size` workers making the windows of `config`'s model (RecordingInputs). */
  constructor(config: RunConfig, size: number) {
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new SerError('EARG', 'predict', `decoding workers must be a whole number >= 1 (${size} given)`);
    }
    for (let i = 0; i < size; i++) {
      const worker = startModuleWorker('window-worker', import.meta.url, { workerData: { config } });
      worker.on('message', (reply: WindowReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(new SerError('ERUNTIME', 'predict', `decoding worker failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.broken) this.fail(new SerError('ERUNTIME', 'predict', `decoding worker exited (code ${code})`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** `file`'s windows, or its FlaggedPrediction / FailedPrediction, as recording-windows.ts recordingWindows gives them. */
  windowsOf(file: string): Promise<WindowResult> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, file, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the workers; tasks not finished reject. */
  async close(): Promise<void> {
    this.fail(new SerError('ERUNTIME', 'predict', 'the decoding workers were stopped'));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const task = this.queue.shift() as Task;
      this.running.set(worker, task);
      worker.postMessage({ id: task.id, file: task.file } satisfies WindowTask);
    }
  }

  private settle(worker: Worker, reply: WindowReply): void {
    const task = this.running.get(worker);
    if (!task || task.id !== reply.id) return; // after a failure: already rejected
    this.running.delete(worker);
    this.idle.push(worker);
    if ('result' in reply) task.resolve(reply.result);
    else task.reject(rebuilt(reply.thrown));
    this.dispatch();
  }

  /** Rejects every task waiting or running with `error`, and every later call. */
  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    for (const task of [...this.running.values(), ...this.queue.splice(0)]) task.reject(error);
    this.running.clear();
  }
}

/** The exception a worker threw, as it was thrown: a SerError with its code and module, or an Error. */
function rebuilt(thrown: { message: string; code?: string; module?: string; stack?: string }): Error {
  const { message, code, module } = thrown;
  const error =
    code !== undefined && module !== undefined
      ? new SerError(code as SerErrorCode, module, message.startsWith(`${module}: `) ? message.slice(module.length + 2) : message)
      : new Error(message);
  if (thrown.stack) error.stack = thrown.stack;
  return error;
}
