/**
 * `ser batch work`: BullMQ workers that classify the files of one or more batches with one model and one
 * BatchedClassifier (jobs processed at once share ONNX Runtime calls). Without batch names, a worker takes every
 * batch in `ser:batches` and looks for new ones every few seconds, so long-lived workers on many machines pick up
 * each new submission.
 *
 * Crash safety is BullMQ's: a job is locked by its worker for `lockMs` (renewed while it runs); a worker that dies
 * leaves it locked until then, and any worker's stalled-job check puts it back in the wait list. A result is
 * stored only by the atomic move to 'completed' of the worker that holds the lock, so each file gets one result.
 * A read error is retried (shared storage may hiccup); a file that changed since submission or cannot be decoded
 * fails at once (UnrecoverableError): retrying cannot help.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { assessAudio, loadAudioBytes } from '../audio/index.js';
import { SerError } from '../errors.js';
import { BatchedClassifier } from '../infer/batched-classifier.js';
import { RunModel } from '../infer/inference.js';
import { BATCHES_KEY, type FileJob, type FileResult, KEY_PREFIX, checkBatchName, connect } from './queue.js';

export interface WorkOptions {
  /** Batches to work on (default: all, including those submitted later). */
  names?: readonly string[];
  /** Jobs processed at once per batch (default 8): they share ORT calls. */
  concurrency?: number;
  /** Run directory (default: the shipped model). */
  model?: string;
  threads?: number;
  /** Job lock in ms (default 30000): how long a dead worker's job waits before another worker takes it. */
  lockMs?: number;
  /** Stalled-job check interval in ms (default 30000). */
  stalledMs?: number;
  /** Called when a job finishes or fails (progress lines). */
  onJob?: (batch: string, job: Job<FileJob>, error?: Error) => void;
}

export interface BatchWorkers {
  /** Batches being worked on. */
  readonly batches: ReadonlySet<string>;
  /** Lets the jobs in progress finish, then stops (SIGTERM). */
  close(): Promise<void>;
}

/** How often a worker without --name looks for new batches (ms). */
const DISCOVERY_MS = 3000;

export async function startWorkers(url: string, options: WorkOptions = {}): Promise<BatchWorkers> {
  options.names?.forEach(checkBatchName);
  const model = await RunModel.load(options.model, { threads: options.threads });
  const classifier = new BatchedClassifier(model);
  const rate = model.config.frontEnd.sampleRateHz;
  const connection = connect(url, { long: true });
  const workers = new Map<string, Worker<FileJob, FileResult>>();

  const processor = async (job: Job<FileJob>): Promise<FileResult> => {
    const { path, sha256 } = job.data;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new SerError(
        'EIO',
        'batch',
        `${path}: cannot be read on this worker (${(error as NodeJS.ErrnoException).code ?? String(error)}); workers need the paths submitted`,
      );
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256)
      throw new UnrecoverableError(
        `batch: ${path}: the file changed since it was submitted (sha256 ${actual.slice(0, 12)}…, job ${sha256.slice(0, 12)}…); submit it again`,
      );
    let samples: Float32Array;
    try {
      samples = (await loadAudioBytes(bytes, path, { sampleRateHz: rate })).samples;
    } catch (error) {
      if (error instanceof SerError) throw new UnrecoverableError(`${error.message} [${error.code}]`);
      throw error;
    }
    // The project's one rule for unusable audio (src/audio/vad.ts), as ser predict and ser serve apply it: no
    // emotion for silence or a too-short clip (judged on the part the model reads); the file goes to the failed list
    // with the reason.
    const assessment = assessAudio(model.inputs.readPart(samples), rate, path);
    if (assessment.kind === 'error') throw new UnrecoverableError(`${assessment.error.message} [${assessment.error.code}]`);
    if (assessment.kind === 'flagged') throw new UnrecoverableError(`batch: ${path}: ${assessment.flag}: ${assessment.reason} [EAUDIO]`);
    return { path, sha256, ...(await classifier.classify(samples)) };
  };

  const startBatch = (name: string) => {
    if (workers.has(name)) return;
    const worker = new Worker<FileJob, FileResult>(name, processor, {
      connection,
      prefix: KEY_PREFIX,
      concurrency: options.concurrency ?? 8,
      lockDuration: options.lockMs ?? 30000,
      stalledInterval: options.stalledMs ?? 30000,
      // A job whose worker died this many times is failed rather than retried forever.
      maxStalledCount: 5,
    });
    worker.on('completed', (job) => options.onJob?.(name, job));
    worker.on('failed', (job, error) => job && options.onJob?.(name, job, error));
    worker.on('error', () => {}); // connection errors: BullMQ reconnects; a closing worker reports them too
    workers.set(name, worker);
  };

  const discover = async (client: Redis) => {
    for (const name of await client.smembers(BATCHES_KEY)) startBatch(name);
  };
  let discovery: NodeJS.Timeout | undefined;
  if (options.names && options.names.length > 0) options.names.forEach(startBatch);
  else {
    await discover(connection);
    discovery = setInterval(() => void discover(connection).catch(() => {}), DISCOVERY_MS);
  }

  let closing: Promise<void> | undefined;
  return {
    get batches() {
      return new Set(workers.keys());
    },
    close: () => {
      clearInterval(discovery);
      closing ??= Promise.all([...workers.values()].map((w) => w.close())).then(async () => {
        await model.release();
        connection.disconnect();
      });
      return closing;
    },
  };
}
