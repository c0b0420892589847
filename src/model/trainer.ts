/**
 * CnnTmTrainer: the train-step / eval-step API the training loop drives. One ONNX Runtime session runs a
 * whole training step (train-graph.ts: forward, loss, gradients, BN statistics, AdamW); another runs the
 * eval forward with the live weights fed as inputs; a third, forward-only, re-estimates the BatchNorm statistics
 * (recalibrateBatchNorm). Between steps the state lives in JS typed arrays: each
 * step feeds parameters, BN statistics and AdamW moments and takes the updated ones from the outputs
 * (paper model: 1.5 M parameters, so 18 MB in and 18 MB out per step, small beside the step's activations).
 *
 * Dropout masks are fed (src/nn/dropout.ts), made on a low-priority worker thread during the previous step
 * (dropout-prefetch.ts) by a generator that newEpoch(e) reseeds with mix(seed, e + 1), so the masks of a run
 * depend only on (seed, epoch, step within the epoch).
 */
import { SerError } from '../errors.js';
import { mixSeed } from '../data/prng.js';
import { type Graph, toOnnx } from '../graph/index.js';
import type { NamedTensor } from '../io/safetensors.js';
import { dropoutMaskInputs } from '../nn/index.js';
import type { HostTensor, Session } from '../runtime/index.js';
import { createSession, nchwcBlockSize } from '../runtime/index.js';
import type { AdamWOptions } from '../nn/adamw.js';
import { resolveAdamW } from '../nn/adamw.js';
import { evalOnnx } from './cnn-tm.js';
import { DropoutMaskPrefetcher } from './dropout-prefetch.js';
import { type CnnTmConfig, type StateEntry, stateLayout } from './config.js';
import { CORPUS_HEAD_PREFIX, corpusHeadInitialState } from './corpus-head.js';
import { BATCH_MEAN, BATCH_VAR, EXP_AVG, EXP_AVG_SQ, NEW, buildBatchStatsGraph, buildTrainGraph, trainingLayout } from './train-graph.js';
import { importStateDict, initialState } from './weights.js';
import { sizeOf } from '../shape.js';

export type { CnnTmConfig } from './config.js';
export { PAPER_CNN_TM } from './config.js';

export interface TrainerOptions {
  /** Static batch size of the training graph. */
  readonly batchSize: number;
  /** AdamW learning rate (changeable with setLearningRate). */
  readonly lr: number;
  /** Default [0.9, 0.999]. */
  readonly betas?: readonly [number, number];
  /** Default 1e-8. */
  readonly eps?: number;
  /** Default 0.01. */
  readonly weightDecay?: number;
  /** Seeds the initial weights (PyTorch's init distributions) and the dropout masks. */
  readonly seed: number;
  /** ORT intra-op threads, default 2. */
  readonly threads?: number;
  /**
   * Let ORT's idle intra-op threads spin-wait between kernels (ORT's own default; src/runtime turns it off by
   * default). A few percent faster on an otherwise idle machine, much slower on a busy one.
   */
  readonly spinning?: boolean;
  /** Write an ORT profile of the training session with this file prefix (bench/engine.ts --profile). */
  readonly profilePrefix?: string;
  /**
   * Train with the corpus-adversarial head over this many corpora (corpus-head.ts): target rows then hold the
   * corpus distribution after the classes, and trainStep takes lambda. Absent: no head.
   */
  readonly corpora?: number;
}

/** Keys of the optimizer part of state(): `optimizer/exp_avg/<param>`, `optimizer/exp_avg_sq/<param>`, `optimizer/step`. */
export const OPTIMIZER_PREFIX = 'optimizer/';
const STEP_KEY = `${OPTIMIZER_PREFIX}step`;

export class CnnTmTrainer {
  readonly config: CnnTmConfig;
  readonly options: TrainerOptions;
  private readonly layout: StateEntry[];
  private readonly trainGraph: Graph;
  private weights = new Map<string, NamedTensor>();
  private moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  private step = 0;
  private lr: number;
  private readonly masks: DropoutMaskPrefetcher;
  private trainSession: Session | null = null;
  /** The BN re-estimation session (train-graph.ts buildBatchStatsGraph), opened on first use and kept. */
  private batchStatsSession: Promise<Session> | null = null;
  /** Eval sessions per batch size, built from exportOnnx() for one version of the weights. */
  private readonly evalSessions = new Map<number, { version: number; session: Promise<Session> }>();
  /** Bumped whenever the weights change (trainStep, loadState). */
  private weightsVersion = 0;
  private released = false;

  private constructor(config: CnnTmConfig, options: TrainerOptions) {
    this.config = config;
    this.options = options;
    this.layout = trainingLayout(config, options.corpora);
    this.lr = options.lr;
    const adamw: AdamWOptions = { betas: options.betas, eps: options.eps, weightDecay: options.weightDecay };
    resolveAdamW(adamw);
    this.trainGraph = buildTrainGraph(config, {
      batch: options.batchSize,
      adamw,
      ...(options.corpora !== undefined ? { corpora: options.corpora } : {}),
    });
    this.masks = new DropoutMaskPrefetcher(dropoutMaskInputs(this.trainGraph), mixSeed(options.seed, 0));
  }

  /** Builds the graphs and a freshly initialised model (PyTorch's init distributions, seeded). */
  static async create(config: CnnTmConfig, options: TrainerOptions): Promise<CnnTmTrainer> {
    const problems: string[] = [];
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      problems.push(`batchSize must be a positive integer (${options.batchSize} given)`);
    if (!(options.lr > 0)) problems.push(`lr must be > 0 (${options.lr} given)`);
    if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer (${options.seed} given)`);
    if (options.corpora !== undefined && !(Number.isInteger(options.corpora) && options.corpora >= 2))
      problems.push(`the corpus-adversarial head needs at least 2 corpora (${options.corpora} given)`);
    if (problems.length > 0) throw new SerError('EARG', 'trainer', problems.join('; '));
    const trainer = new CnnTmTrainer(config, options);
    const state = initialState(config, options.seed);
    if (options.corpora !== undefined)
      for (const [name, tensor] of corpusHeadInitialState(config.dModel, options.corpora, options.seed)) state.set(name, tensor);
    trainer.resetState(state);
    return trainer;
  }

  /** Changes the AdamW learning rate from the next step on (no graph rebuild: lr is a graph input). */
  setLearningRate(lr: number): void {
    if (!(lr > 0)) throw new SerError('EARG', 'trainer', `lr must be > 0 (${lr} given)`);
    this.lr = lr;
  }

  /** AdamW steps taken so far. */
  get stepCount(): number {
    return this.step;
  }

  /**
   * Reseeds dropout for epoch `epoch`: the masks of the following steps depend only on (seed, epoch, step
   * index within the epoch).
   */
  newEpoch(epoch: number): void {
    this.checkLive();
    this.masks.reseed(mixSeed(this.options.seed, epoch + 1));
  }

  /** Values per target row: the classes, then the corpora with the corpus-adversarial head. */
  get targetWidth(): number {
    return this.config.nClasses + (this.options.corpora ?? 0);
  }

  /**
   * One AdamW step on a batch: x [batchSize, 1, nMels, frames] (or [batchSize, nMels, frames]) log-mel dB
   * row-major; y the class of each clip ([batchSize] integers), or target distributions [batchSize, targetWidth]
   * row-major float32 (label smoothing, mixup, per-clip weights; see softCrossEntropy). With the corpus head,
   * `reversal` is lambda (default 0) and the rows must be distributions. Returns the batch's mean loss before the
   * update (and its corpus term with the head).
   */
  async trainStep(
    x: Float32Array,
    y: Int32Array | BigInt64Array | Float32Array,
    reversal = 0,
  ): Promise<{ loss: number; corpusLoss?: number }> {
    this.checkLive();
    const batch = this.options.batchSize;
    this.checkBatch(x, batch);
    const targets = this.targetsOf(y, batch);
    const session = await this.trainingSession();
    const feeds: Record<string, HostTensor> = {
      mel: { data: x, shape: [batch, 1, this.config.nMels, this.config.frames] },
      targets: { data: targets, shape: [batch, this.targetWidth] },
      step: { data: Float64Array.of(this.step + 1), shape: [] },
      lr: { data: Float64Array.of(this.lr), shape: [] },
    };
    if (this.options.corpora !== undefined) feeds.reversal = { data: Float32Array.of(reversal), shape: [] };
    for (const [name, tensor] of this.weights) feeds[name] = tensor;
    for (const { input, data } of await this.masks.next()) feeds[input.name] = { data, shape: input.shape };
    for (const [name, { m, v }] of this.moments) {
      const shape = this.weights.get(name)?.shape ?? [];
      feeds[EXP_AVG + name] = { data: m, shape };
      feeds[EXP_AVG_SQ + name] = { data: v, shape };
    }
    const out = await session.run(feeds);
    const loss = ((out.loss as HostTensor).data as Float32Array)[0] as number;
    if (!Number.isFinite(loss)) {
      throw new SerError(
        'ERUNTIME',
        'trainer',
        `step ${this.step + 1}: loss is ${loss}; weights were not updated (lower the learning rate?)`,
      );
    }
    for (const entry of this.layout) {
      const value = out[NEW + entry.name] as HostTensor;
      this.weights.set(entry.name, { data: value.data, shape: entry.shape });
      if (entry.role === 'parameter') {
        this.moments.set(entry.name, {
          m: out[NEW + EXP_AVG + entry.name]?.data as Float32Array,
          v: out[NEW + EXP_AVG_SQ + entry.name]?.data as Float32Array,
        });
      }
    }
    this.step++;
    this.weightsVersion++;
    if (this.options.corpora === undefined) return { loss };
    return { loss, corpusLoss: ((out.corpus_loss as HostTensor).data as Float32Array)[0] as number };
  }

  /**
   * Eval-mode logits [batch, nClasses] for x [batch, 1, nMels, frames] (BN running statistics, no dropout).
   * Runs the exported model (weights as initializers, so ORT folds BN into the convs): the session is rebuilt
   * on the first predict after the weights change (about a second for the paper model), then reused, so
   * evaluate whole sets between training steps rather than interleaving single predictions.
   */
  async predict(x: Float32Array, batch: number): Promise<Float32Array> {
    this.checkLive();
    if (!Number.isInteger(batch) || batch < 1) throw new SerError('EARG', 'trainer', `batch must be a positive integer (${batch} given)`);
    this.checkBatch(x, batch);
    let cached = this.evalSessions.get(batch);
    if (!cached || cached.version !== this.weightsVersion) {
      if (cached) void cached.session.then((old) => old.release());
      cached = { version: this.weightsVersion, session: createSession(this.exportOnnx(batch), { threads: this.options.threads }) };
      this.evalSessions.set(batch, cached);
    }
    const feeds: Record<string, HostTensor> = { mel: { data: x, shape: [batch, 1, this.config.nMels, this.config.frames] } };
    const out = await (await cached.session).run(feeds, ['logits']);
    return out.logits?.data as Float32Array;
  }

  /**
   * Re-estimates every BatchNorm's running statistics on training clips with dropout OFF, replacing them in
   * the state (PyTorch's torch.optim.swa_utils.update_bn, which sets momentum = None, a cumulative average):
   *   running_mean = (1/K) sum_k mean_k,  running_var = (1/K) sum_k var_k * n / (n - 1),  num_batches_tracked = K
   * over K batches, mean_k / var_k the batch mean and biased batch variance over (N, H, W) of batch k, n = N H W
   * (float32 per batch from ORT, averaged in float64). One difference from update_bn: that runs the model in
   * train mode, dropout included; here dropout is off, so the statistics match what the eval model sees (CNN-TM
   * has Dropout before each conv after the first: statistics collected under dropout have the wrong variance in
   * eval, see src/train/presets.ts). Weights are untouched; no gradients, no AdamW step.
   *
   * Batches: clips `order[0 .. B)`, `order[B .. 2B)`, ... (default order 0..count-1), FULL batches of the
   * trainer's batch size B only; the last floor-remainder of `order` is left out (one static graph size, and no
   * small batch with noisy statistics weighing as much as a full one). One forward-only session (the CNN blocks
   * only; weights fed as inputs), opened on the first call and reused.
   * @param x [count, nMels, frames] log-mel dB, row-major
   * @returns the number of batches K
   */
  async recalibrateBatchNorm(x: Float32Array, count: number, order?: ArrayLike<number>): Promise<{ batches: number }> {
    this.checkLive();
    const batch = this.options.batchSize;
    const clipSize = this.config.nMels * this.config.frames;
    if (!Number.isInteger(count) || count < 1 || x.length !== count * clipSize) {
      throw new SerError(
        'ESHAPE',
        'trainer',
        `recalibrateBatchNorm: input holds ${x.length} values; ${count} clips of ${this.config.nMels} mels x ${this.config.frames} frames need ${count * clipSize}`,
      );
    }
    const clips = order ?? Array.from({ length: count }, (_, i) => i);
    const batches = Math.floor(clips.length / batch);
    if (batches === 0)
      throw new SerError('EDATA', 'trainer', `recalibrateBatchNorm: ${clips.length} clips are fewer than one batch of ${batch}`);
    if (!this.batchStatsSession) {
      // As the training session: convs lowered to NCHWc, ORT's own layout pass off (weights are fed inputs).
      const bytes = toOnnx(buildBatchStatsGraph(this.config, batch), { nchwcBlock: await nchwcBlockSize() });
      this.batchStatsSession = createSession(bytes, { threads: this.options.threads, optimizationLevel: 'extended' });
    }
    const session = await this.batchStatsSession;

    const mel = new Float32Array(batch * clipSize);
    const feeds: Record<string, HostTensor> = { mel: { data: mel, shape: [batch, 1, this.config.nMels, this.config.frames] } };
    for (const entry of stateLayout(this.config)) feeds[entry.name] = this.weights.get(entry.name) as NamedTensor;
    const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < batch; i++) {
        const clip = clips[b * batch + i] as number;
        if (!(Number.isInteger(clip) && clip >= 0 && clip < count))
          throw new SerError('EARG', 'trainer', `recalibrateBatchNorm: clip index ${clip} is outside 0..${count - 1}`);
        mel.set(x.subarray(clip * clipSize, (clip + 1) * clipSize), i * clipSize);
      }
      const out = await session.run(feeds);
      for (const [name, tensor] of Object.entries(out)) {
        if (!name.startsWith(BATCH_MEAN)) continue;
        const bn = name.slice(BATCH_MEAN.length);
        const mean = tensor.data as Float32Array;
        const variance = out[BATCH_VAR + bn]?.data as Float32Array;
        let sum = sums.get(bn);
        if (!sum) sums.set(bn, (sum = { mean: new Float64Array(mean.length), variance: new Float64Array(mean.length) }));
        for (let c = 0; c < mean.length; c++) {
          sum.mean[c]! += mean[c]!;
          sum.variance[c]! += variance[c]!;
        }
      }
    }
    const weights = new Map(this.weights);
    for (const [bn, sum] of sums) {
      weights.set(`${bn}.running_mean`, { data: Float32Array.from(sum.mean, (v) => v / batches), shape: [sum.mean.length] });
      weights.set(`${bn}.running_var`, { data: Float32Array.from(sum.variance, (v) => v / batches), shape: [sum.variance.length] });
      weights.set(`${bn}.num_batches_tracked`, { data: BigInt64Array.of(BigInt(batches)), shape: [] });
    }
    this.weights = weights;
    this.weightsVersion++;
    return { batches };
  }

  /**
   * The whole training state: the PyTorch state_dict keys (`a.0.weight`, ...) plus the AdamW moments and step
   * under `optimizer/`. The arrays are the trainer's own (replaced, never mutated, by later steps).
   */
  state(): Map<string, NamedTensor> {
    const out = new Map<string, NamedTensor>(this.weights);
    for (const [name, { m, v }] of this.moments) {
      const shape = this.weights.get(name)?.shape ?? [];
      out.set(`${OPTIMIZER_PREFIX}${EXP_AVG}${name}`, { data: m, shape });
      out.set(`${OPTIMIZER_PREFIX}${EXP_AVG_SQ}${name}`, { data: v, shape });
    }
    out.set(STEP_KEY, { data: BigInt64Array.of(BigInt(this.step)), shape: [] });
    return out;
  }

  /**
   * Restores a state() map, or loads a plain PyTorch state_dict (no `optimizer/` keys: moments and step
   * restart at zero). Every mismatch is reported in one EFORMAT error.
   */
  loadState(state: ReadonlyMap<string, NamedTensor>): void {
    this.checkLive();
    const isHead = (key: string) => this.options.corpora !== undefined && key.startsWith(CORPUS_HEAD_PREFIX);
    const model = new Map([...state].filter(([key]) => !key.startsWith(OPTIMIZER_PREFIX) && !isHead(key)));
    const weights = importStateDict(model, this.config, { source: 'trainer state' });
    const hasOptimizer = state.has(STEP_KEY);
    const problems: string[] = [];
    // The corpus head's weights: from `state` when it has them (a checkpoint), else the trainer's own (a model
    // without the head, e.g. the start of a fine-tuning run), checked against the head's layout.
    for (const entry of this.layout.filter((e) => isHead(e.name))) {
      const t = state.get(entry.name) ?? this.weights.get(entry.name);
      if (!t || !(t.data instanceof Float32Array) || t.data.length !== sizeOf(entry.shape))
        problems.push(`'${entry.name}' missing or not float32 [${entry.shape.join(', ')}]`);
      else weights.set(entry.name, { data: t.data, shape: entry.shape });
    }
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const entry of this.layout.filter((e) => e.role === 'parameter')) {
      const take = (kind: string): Float32Array => {
        const key = `${OPTIMIZER_PREFIX}${kind}${entry.name}`;
        const t = state.get(key);
        if (!hasOptimizer) return new Float32Array(sizeOf(entry.shape));
        if (!t || !(t.data instanceof Float32Array) || t.data.length !== sizeOf(entry.shape)) {
          problems.push(`'${key}' missing or not float32 [${entry.shape.join(', ')}]`);
          return new Float32Array(sizeOf(entry.shape));
        }
        return t.data;
      };
      moments.set(entry.name, { m: take(EXP_AVG), v: take(EXP_AVG_SQ) });
    }
    if (problems.length > 0) throw new SerError('EFORMAT', 'trainer', `optimizer state: ${problems.join('; ')}`);
    this.weights = weights;
    this.weightsVersion++;
    this.moments = moments;
    this.step = hasOptimizer ? Number(((state.get(STEP_KEY) as NamedTensor).data as BigInt64Array | Int32Array)[0]) : 0;
  }

  /**
   * The deployable model (eval forward, weights as initializers): input 'mel' [batch, 1, nMels, frames], outputs
   * 'logits', 'probabilities'. `batch` 'dynamic': a symbolic batch axis (any number of clips per run; what
   * `ser train` writes as model.onnx).
   */
  exportOnnx(batch: number | 'dynamic' = this.options.batchSize): Uint8Array {
    return evalOnnx(this.config, this.weights, batch);
  }

  /** Path of the ORT profile of the training session ('' unless options.profilePrefix). */
  endProfiling(): string {
    return this.trainSession?.endProfiling() ?? '';
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const sessions: Promise<Session>[] = [...this.evalSessions.values()].map((cached) => cached.session);
    if (this.trainSession) sessions.push(Promise.resolve(this.trainSession));
    if (this.batchStatsSession) sessions.push(this.batchStatsSession);
    await this.masks.release();
    this.trainSession = null;
    this.batchStatsSession = null;
    this.evalSessions.clear();
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }

  private resetState(weights: Map<string, NamedTensor>): void {
    this.weights = weights;
    this.weightsVersion++;
    this.moments = new Map();
    for (const entry of this.layout) {
      if (entry.role === 'parameter')
        this.moments.set(entry.name, { m: new Float32Array(sizeOf(entry.shape)), v: new Float32Array(sizeOf(entry.shape)) });
    }
    this.step = 0;
  }

  private async trainingSession(): Promise<Session> {
    if (!this.trainSession) {
      // Convs fed their weights lowered to ORT's NCHWc kernels (src/graph toOnnx).
      const bytes = toOnnx(this.trainGraph, { nchwcBlock: await nchwcBlockSize() });
      // 'extended': without ORT's NCHWc layout pass, which on a graph fed its weights mostly adds reorders
      // (docs/benchmark-log.md).
      this.trainSession = await createSession(bytes, {
        threads: this.options.threads,
        spinning: this.options.spinning ?? false,
        optimizationLevel: 'extended',
        ...(this.options.profilePrefix !== undefined ? { profilePrefix: this.options.profilePrefix } : {}),
      });
    }
    return this.trainSession;
  }

  /** One-hot rows for class indices; target rows as given (each checked finite and >= 0). */
  private targetsOf(y: Int32Array | BigInt64Array | Float32Array, batch: number): Float32Array {
    const classes = this.config.nClasses;
    const width = this.targetWidth;
    if (y instanceof Float32Array) {
      if (y.length !== batch * width) {
        const what = width === classes ? `${classes} classes` : `(${classes} classes + ${width - classes} corpora)`;
        throw new SerError('ESHAPE', 'trainer', `targets hold ${y.length} values; ${batch} clips x ${what} need ${batch * width}`);
      }
      const bad = y.findIndex((v) => !(v >= 0 && Number.isFinite(v)));
      if (bad >= 0)
        throw new SerError('EDATA', 'trainer', `target ${y[bad]} of clip ${Math.floor(bad / width)} is not a finite value >= 0`);
      return y;
    }
    if (width !== classes)
      throw new SerError('EARG', 'trainer', 'with the corpus head, targets are rows of class and corpus distributions, not class indices');
    if (y.length !== batch) throw new SerError('ESHAPE', 'trainer', `labels hold ${y.length} values; the batch size is ${batch}`);
    const targets = new Float32Array(batch * classes);
    for (let i = 0; i < batch; i++) {
      const label = Number(y[i]);
      if (!(Number.isInteger(label) && label >= 0 && label < classes)) {
        throw new SerError('EDATA', 'trainer', `label ${label} of clip ${i} is outside 0..${classes - 1}`);
      }
      targets[i * classes + label] = 1;
    }
    return targets;
  }

  private checkBatch(x: Float32Array, batch: number): void {
    const clip = this.config.nMels * this.config.frames;
    if (x.length !== batch * clip) {
      throw new SerError(
        'ESHAPE',
        'trainer',
        `input holds ${x.length} values; a batch of ${batch} clips of ${this.config.nMels} mels x ${this.config.frames} frames needs ${batch * clip}`,
      );
    }
  }

  private checkLive(): void {
    if (this.released) throw new SerError('ERUNTIME', 'trainer', 'the trainer was released');
  }
}
