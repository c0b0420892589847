/**
 * A pool of worker threads running one module of the package (startModuleWorker), each on one task at a time; the
 * tasks wait in the pool's queue in the order given and each result comes back to the call that asked, however many
 * are in flight. The worker side is `serveTasks`. Used for what costs CPU per file and needs no ONNX Runtime:
 * decoding and front end of `ser predict` (src/infer/window-pool.ts), feature extraction of `ser eval` and `ser
 * train` (src/data/feature-cache.ts).
 *
 * Failures: an exception the task threw comes back as it was thrown (a SerError with its code and module); a worker
 * that dies, or closing the pool, rejects every task waiting or running and every later call.
 */
import { availableParallelism } from 'node:os';
import { type Worker, parentPort } from 'node:worker_threads';
import { SerError, type SerErrorCode } from '../errors.js';
import { startModuleWorker } from './worker.js';

/** Most workers by default: beyond this the main thread (the model, the cache) is the bottleneck. */
export const MAX_DEFAULT_JOBS = 4;

/** Workers by default: one per core, at most MAX_DEFAULT_JOBS. */
export function defaultJobs(): number {
  return Math.min(availableParallelism(), MAX_DEFAULT_JOBS);
}

/** Checks a `jobs` option: a whole number of worker threads >= 0 (0: none); EARG in `module` otherwise. */
export function checkJobs(jobs: number, module: string): number {
  if (!(Number.isInteger(jobs) && jobs >= 0)) {
    throw new SerError('EARG', module, `jobs must be a whole number of worker threads >= 0 (${jobs} given)`);
  }
  return jobs;
}

/** What the pool sends a worker: a task number and the task. */
interface TaskMessage<T> {
  id: number;
  task: T;
}

/** What a worker sends back: the task's result, or the exception it threw. */
type ReplyMessage<R> =
  | { id: number; result: R }
  | { id: number; thrown: { message: string; code?: string; module?: string; stack?: string } };

interface Pending<T, R> {
  id: number;
  task: T;
  resolve: (result: R) => void;
  reject: (error: Error) => void;
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Module (no extension) beside `callerUrl` that calls serveTasks. */
  module: string;
  /** The caller's import.meta.url. */
  callerUrl: string;
  /** Number of workers, a whole number >= 1. */
  size: number;
  /** Given to every worker as workerData (structured-cloned). */
  workerData?: unknown;
  /** SerError module of the pool's own errors, e.g. 'predict'. */
  errorModule: string;
  /** What the workers do, in their errors: 'decoding' gives "decoding worker exited (code 1)". */
  role: string;
}

export class WorkerPool<T, R> {
  private readonly workers: Worker[] = [];
  /** Tasks not yet sent to a worker, first come first sent. */
  private readonly queue: Array<Pending<T, R>> = [];
  /** The task each busy worker is on. */
  private readonly running = new Map<Worker, Pending<T, R>>();
  private readonly idle: Worker[] = [];
  private nextId = 0;
  /** Set when a worker died or the pool was closed: every later call rejects with it. */
  private broken: Error | null = null;
  private readonly errorModule: string;
  private readonly role: string;

  constructor(options: WorkerPoolOptions) {
    const { size, errorModule, role } = options;
    this.errorModule = errorModule;
    this.role = role;
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new SerError('EARG', errorModule, `${role} workers must be a whole number >= 1 (${size} given)`);
    }
    for (let i = 0; i < size; i++) {
      const worker = startModuleWorker(options.module, options.callerUrl, { workerData: options.workerData });
      worker.on('message', (reply: ReplyMessage<R>) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(new SerError('ERUNTIME', errorModule, `${role} worker failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.broken) this.fail(new SerError('ERUNTIME', errorModule, `${role} worker exited (code ${code})`));
      });
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /** The result of `task` on a worker, or what it threw. */
  run(task: T): Promise<R> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * The results of `tasks` in their order, with at most `ahead` tasks sent and not yet taken by the caller (the
   * back-pressure that bounds memory: results wait for the caller, the rest of the tasks for them). A failure
   * throws at the task it belongs to; results already made for later tasks are dropped.
   */
  async *runInOrder(tasks: Iterable<T>, ahead = 2 * this.size): AsyncGenerator<R> {
    const inFlight: Array<Promise<R>> = [];
    const iterator = tasks[Symbol.iterator]();
    const refill = () => {
      while (inFlight.length < ahead) {
        const next = iterator.next();
        if (next.done) return;
        const promise = this.run(next.value);
        promise.catch(() => {}); // rejected before its turn (the pool closing): thrown when its turn comes, if ever
        inFlight.push(promise);
      }
    };
    refill();
    while (inFlight.length > 0) {
      const result = await (inFlight.shift() as Promise<R>);
      refill();
      yield result;
    }
  }

  /** Stops the workers; tasks not finished reject. */
  async close(): Promise<void> {
    this.fail(new SerError('ERUNTIME', this.errorModule, `the ${this.role} workers were stopped`));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop() as Worker;
      const pending = this.queue.shift() as Pending<T, R>;
      this.running.set(worker, pending);
      worker.postMessage({ id: pending.id, task: pending.task } satisfies TaskMessage<T>);
    }
  }

  private settle(worker: Worker, reply: ReplyMessage<R>): void {
    const pending = this.running.get(worker);
    if (!pending || pending.id !== reply.id) return; // after a failure: already rejected
    this.running.delete(worker);
    this.idle.push(worker);
    if ('result' in reply) pending.resolve(reply.result);
    else pending.reject(rebuilt(reply.thrown));
    this.dispatch();
  }

  /** Rejects every task waiting or running with `error`, and every later call. */
  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    for (const pending of [...this.running.values(), ...this.queue.splice(0)]) pending.reject(error);
    this.running.clear();
  }
}

/**
 * The worker side of a WorkerPool: answers each task with `handle(task, workerData)`'s result, its `transfer`
 * buffers handed over rather than copied, or with the exception it threw (message, stack, SerError code and module).
 */
export function serveTasks<T, R>(handle: (task: T) => Promise<{ result: R; transfer?: ArrayBuffer[] }>): void {
  parentPort?.on('message', async ({ id, task }: TaskMessage<T>) => {
    let reply: ReplyMessage<R>;
    let transfer: ArrayBuffer[] = [];
    try {
      const handled = await handle(task);
      reply = { id, result: handled.result };
      transfer = handled.transfer ?? [];
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const serError = error instanceof SerError ? { code: error.code, module: error.module } : {};
      reply = { id, thrown: { message: e.message, stack: e.stack, ...serError } };
    }
    parentPort?.postMessage(reply, transfer);
  });
}

/**
 * `array` as a buffer that can be transferred whole: the array itself when it fills a plain ArrayBuffer, else a copy.
 * Transferring a view of a larger buffer would hand over (and detach) the rest of it too.
 */
export function transferable(array: Float32Array): Float32Array {
  const own = array.byteOffset === 0 && array.buffer instanceof ArrayBuffer && array.byteLength === array.buffer.byteLength;
  return own ? array : array.slice();
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
