/**
 * Dynamic batching for concurrent callers (the HTTP service, batch workers): recordings classified one at a time
 * by many callers are gathered into one ONNX Runtime call of up to `maxBatch` model inputs, waiting at most
 * `maxWaitMs` for company. The numeric pieces are inference.ts's and model-use.ts's (RunModel.probabilities,
 * RecordingInputs, averageWindowProbabilities, classifySegments): a recording gets the probabilities
 * predictFiles gives it, whatever else shares its ORT call.
 */
import { SerError } from '../errors.js';
import { averageWindowProbabilities } from '../eval/probabilities.js';
import type { RunModel } from './inference.js';
import { type LabelledPrediction, type SegmentedPrediction, classifySegments, labelPrediction } from './model-use.js';

export interface BatchingOptions {
  /** Most model inputs (windows) per ORT call (default: the model's batch, 32 for a symbolic batch axis). */
  maxBatch?: number;
  /** Milliseconds an idle batcher waits after a first request for others to join its call (default 5). */
  maxWaitMs?: number;
  /** Called after each ORT call with its number of model inputs and its duration in seconds (metrics). */
  onBatch?: (clips: number, seconds: number) => void;
}

interface Pending {
  windows: Float32Array;
  count: number;
  resolve: (rows: Float32Array) => void;
  reject: (error: unknown) => void;
}

export class BatchedClassifier {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  private readonly model: RunModel;
  private readonly onBatch: BatchingOptions['onBatch'];
  private readonly queue: Pending[] = [];
  private queuedClips = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(model: RunModel, options: BatchingOptions = {}) {
    this.model = model;
    this.maxBatch = options.maxBatch ?? model.batch;
    this.maxWaitMs = options.maxWaitMs ?? 5;
    if (!(Number.isInteger(this.maxBatch) && this.maxBatch >= 1)) {
      throw new SerError('EARG', 'batch', `maxBatch must be a positive integer (${this.maxBatch} given)`);
    }
    if (!(this.maxWaitMs >= 0 && Number.isFinite(this.maxWaitMs))) {
      throw new SerError('EARG', 'batch', `maxWaitMs must be a number of milliseconds >= 0 (${this.maxWaitMs} given)`);
    }
    this.onBatch = options.onBatch;
  }

  /** The label and class probabilities of mono `samples` at the model's rate (as predictFiles gives them). */
  async classify(samples: Float32Array): Promise<LabelledPrediction> {
    const { windows, count } = this.model.inputs.of(samples);
    const rows = await this.clipProbabilities(windows, count);
    return labelPrediction(averageWindowProbabilities(rows, [count], this.model.config.labels.length), this.model.config.labels);
  }

  /** Window-by-window classification of `samples` (as predictSegments gives it), windows every `hopS` seconds. */
  classifySegments(samples: Float32Array, hopS?: number): Promise<SegmentedPrediction> {
    return classifySegments(samples, this.model.inputs, this.model.config, (x, n) => this.clipProbabilities(x, n), {
      hopS,
      batch: this.maxBatch,
    });
  }

  /** Probabilities [count, nClasses] of `count` model inputs, computed in a call shared with other callers. */
  clipProbabilities(windows: Float32Array, count: number): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ windows, count, resolve, reject });
      this.queuedClips += count;
      this.schedule();
    });
  }

  /** Runs now when a call is full, else after maxWaitMs; never two ORT calls at once (the next batch fills meanwhile). */
  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queuedClips >= this.maxBatch || this.maxWaitMs === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.maxWaitMs);
    }
  }

  /** One ORT call over the queued requests that fit in maxBatch (at least one: a long recording runs alone). */
  private async flush(): Promise<void> {
    this.running = true;
    const taken: Pending[] = [];
    let clips = 0;
    while (this.queue.length > 0 && (taken.length === 0 || clips + this.queue[0]!.count <= this.maxBatch)) {
      const next = this.queue.shift()!;
      taken.push(next);
      clips += next.count;
    }
    this.queuedClips -= clips;
    const joined = new Float32Array(taken.reduce((sum, p) => sum + p.windows.length, 0));
    let at = 0;
    for (const p of taken) {
      joined.set(p.windows, at);
      at += p.windows.length;
    }
    const started = performance.now();
    try {
      const rows = await this.model.probabilities(joined, clips);
      this.onBatch?.(clips, (performance.now() - started) / 1000);
      const n = this.model.config.labels.length;
      let row = 0;
      for (const p of taken) {
        p.resolve(rows.slice(row * n, (row + p.count) * n));
        row += p.count;
      }
    } catch (error) {
      for (const p of taken) p.reject(error);
    } finally {
      this.running = false;
      // Requests that arrived during the call have waited already: run them at once.
      if (this.queue.length > 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
        void this.flush();
      }
    }
  }
}
