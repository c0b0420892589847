/**
 * What using a trained run's model needs, without the file system (so src/web can use it in browsers): checking
 * a parsed config.json (run-config.ts), turning one row of model.onnx's 'probabilities' into a labelled prediction, and
 * classifying a long recording window by window.
 */
import { type AudioFlag, assessAudio } from '../audio/vad.js';
import { SerError } from '../errors.js';
import { argmax, averageWindowProbabilities } from '../eval/probabilities.js';
import { samplesFor } from '../features/config.js';
import { clipLogMel } from '../features/fixed-length.js';
import { LogMelFrontEnd } from '../features/front-end.js';
import { type BandNormalizer, normalizeBands, speakerNormalizer } from '../features/speaker-norm.js';
import { inferenceWindows, utteranceLogMel } from '../features/utterance.js';
import type { RunConfig } from '../train/run-config.js';

export { MODEL_BATCH, type RunConfig, checkRunConfig } from '../train/run-config.js';

/** The most probable class and every class's probability. */
export interface LabelledPrediction {
  label: string;
  probabilities: Record<string, number>;
}

/** `row` [labels.length] probabilities (the model's output for one clip) as a LabelledPrediction. */
export function labelPrediction(row: ArrayLike<number>, labels: readonly string[]): LabelledPrediction {
  return {
    label: labels[argmax(Array.from(labels, (_, c) => row[c] as number))] as string,
    probabilities: Object.fromEntries(labels.map((label, c) => [label, row[c] as number])),
  };
}

/**
 * A recording given no emotion because it is too short to judge or holds no speech (src/audio/vad.ts
 * assessAudio): `reason` says what was measured. `ser predict`'s FlaggedPrediction is this with the file.
 */
export interface FlaggedRecording {
  flag: AudioFlag;
  reason: string;
}

/** One window of a recording and its prediction. */
export interface SegmentPrediction extends LabelledPrediction {
  /** Window start and end in seconds (the end is capped at the recording's length). */
  startS: number;
  endS: number;
}

/** A window left unclassified: it holds less than the speech needed (src/audio/vad.ts); no emotion is given for it. */
export interface FlaggedSegment {
  startS: number;
  endS: number;
  flag: 'no_speech';
  /** Voice-active seconds in the window. */
  speechS: number;
}

/**
 * A whole recording: the label of its mean probabilities over the classified windows, each classified window's
 * prediction, and the windows left out for holding no speech (only when classifySegments is given the recording's
 * voice activity). When every window is flagged, `label` is '' and `probabilities` is empty.
 */
export interface SegmentedPrediction extends LabelledPrediction {
  segments: SegmentPrediction[];
  flaggedSegments: FlaggedSegment[];
}

/**
 * Window starts (in samples) for classifying a recording of `length` samples in windows of `window` samples
 * every `hop` samples: 0, hop, 2 hop, ... keeping a window only while at least half of it is audio (the first
 * always: a recording shorter than the window is one zero-padded window, as in training).
 */
export function segmentStarts(length: number, window: number, hop: number): number[] {
  if (!(Number.isInteger(window) && window > 0 && Number.isInteger(hop) && hop > 0)) {
    throw new SerError('EARG', 'predict', `window and hop must be positive numbers of samples (${window}, ${hop} given)`);
  }
  const starts = [0];
  for (let start = hop; start + window / 2 <= length; start += hop) starts.push(start);
  return starts;
}

/** The model on `count` clips' log-mels ([count, nMels, frames] row-major) -> probabilities [count, nClasses]. */
export type ClipProbabilities = (mels: Float32Array, count: number) => Promise<Float32Array>;

/**
 * The model inputs of a recording under a run's config: its recipe's windows (src/features/utterance.ts: the
 * speech span's test-time crops, whose probabilities are averaged), or for runs made before recipes the first
 * `durationS` seconds (clipLogMel). One definition for `ser predict`, `ser eval`, segments and the browser.
 * A model trained with speaker-level input normalisation (its recipe has speakerNorm) takes its windows normalised
 * with the statistics of the speaker (`speaker`, from recordings of theirs: src/infer/enrolment.ts); without them
 * `of` refuses (requireSpeaker says how to give them).
 */
export class RecordingInputs {
  private readonly config: Pick<RunConfig, 'frontEnd' | 'durationS' | 'model' | 'recipe'>;
  /** The run's front end (legacy clips); the same with topDb null (recipe windows apply the clamp per window). */
  readonly frontEnd: LogMelFrontEnd;
  private readonly unclamped: LogMelFrontEnd;
  /** The speaker's band statistics every window is normalised with (speaker-normalised models only). */
  readonly speaker: BandNormalizer | undefined;

  constructor(config: Pick<RunConfig, 'frontEnd' | 'durationS' | 'model' | 'recipe'>, speaker?: BandNormalizer) {
    if (speaker !== undefined) {
      if (!config.recipe?.speakerNorm)
        throw new SerError('EARG', 'model', "a speaker's statistics were given, but this model was trained without speaker normalisation");
      if (speaker.mean.length !== config.model.nMels || speaker.scale.length !== config.model.nMels)
        throw new SerError(
          'ESHAPE',
          'model',
          `speaker statistics of ${speaker.mean.length} bands for a model of ${config.model.nMels} mels`,
        );
    }
    this.config = config;
    this.speaker = speaker;
    this.frontEnd = new LogMelFrontEnd(config.frontEnd);
    this.unclamped = new LogMelFrontEnd({ ...config.frontEnd, topDb: null });
  }

  /** Seconds of a recording `of` reads from its start: the recipe's maxS, or the clip length of runs before recipes. */
  get secondsRead(): number {
    return this.config.recipe ? this.config.recipe.input.maxS : this.config.durationS;
  }

  /**
   * The part of mono `samples` (at the front end's rate) the model reads: the first `secondsRead` seconds. The
   * unusable-audio rule judges this part for a whole-recording prediction (ser predict, the web's classify), so
   * the answer does not depend on the file format or on what follows past the part the model hears.
   */
  readPart(samples: Float32Array): Float32Array {
    return samples.subarray(0, samplesFor(this.secondsRead, this.frontEnd.config));
  }

  /** Windows [count, nMels, frames] of mono `samples` at the front end's rate (normalised with `speaker`'s statistics). */
  of(samples: Float32Array): { windows: Float32Array; count: number } {
    const { recipe, durationS, model } = this.config;
    if (!recipe) return { windows: clipLogMel(this.frontEnd, samples, durationS), count: 1 };
    requireSpeaker(this.config, this.speaker);
    const windows = inferenceWindows(this.unclamped, samples, model.frames, recipe.input, this.frontEnd.config.topDb);
    if (this.speaker) normalizeBands(windows.windows, this.speaker, model.frames);
    return windows;
  }

  /**
   * The band statistics of a speaker from mono `samples` of their recordings (at the front end's rate): the part of
   * each the model reads, taken as training takes them (features/speaker-norm.ts speakerNormalizer).
   */
  speakerStatistics(recordings: readonly Float32Array[]): BandNormalizer {
    const recipe = this.config.recipe;
    if (!recipe?.speakerNorm)
      throw new SerError('EARG', 'model', 'this model was trained without speaker normalisation: it takes no speaker statistics');
    const logMels = recordings.map((samples) => utteranceLogMel(this.unclamped, samples, recipe.input.maxS));
    return speakerNormalizer(logMels, recipe.input.trimDb, this.frontEnd.config.topDb);
  }
}

/**
 * Throws, saying how to give them, when a model trained with speaker-level input normalisation is to be used
 * without a speaker's statistics (`speaker`).
 */
export function requireSpeaker(config: Pick<RunConfig, 'recipe'>, speaker: BandNormalizer | undefined): void {
  if (!config.recipe?.speakerNorm || speaker !== undefined) return;
  throw new SerError(
    'EARG',
    'model',
    'this model was trained with speaker-level input normalisation (its recipe has speakerNorm): its inputs need the ' +
      "band statistics of the speaker, taken from recordings of theirs. Give them: ser predict --enrol FILE_OR_FOLDER (the speaker's " +
      "recordings; every file classified is taken as theirs), ser eval --enrol train|scored (each speaker's recordings in the " +
      "run's training part, or those scored); in the library predictFiles/predictSegments({ enrol }) and evaluateRun({ enrol }). " +
      'The web recognizer does not take them: use a model without speaker normalisation there.',
  );
}

/**
 * Probabilities [recordings, nClasses] of recordings' windows ([sum(counts), nMels, frames]): the model run up to
 * `batch` windows per call, the windows of each recording averaged.
 */
export async function recordingProbabilities(
  windows: Float32Array,
  counts: ArrayLike<number>,
  nClasses: number,
  probabilities: ClipProbabilities,
  batch: number,
): Promise<Float32Array> {
  const total = Array.from(counts).reduce((a, b) => a + b, 0);
  const clip = total === 0 ? 0 : windows.length / total;
  const rows = new Float32Array(total * nClasses);
  for (let start = 0; start < total; start += batch) {
    const n = Math.min(batch, total - start);
    rows.set(await probabilities(windows.subarray(start * clip, (start + n) * clip), n), start * nClasses);
  }
  return averageWindowProbabilities(rows, counts, nClasses);
}

/**
 * Classifies mono `samples` (at the front end's rate) window by window: windows of the run's clip length
 * (config.durationS) every `hopS` seconds (default: the clip length, no overlap), each classified as a recording
 * of its own (RecordingInputs) through `probabilities`, up to `batch` model inputs per call. With `gate`, each
 * window is judged alone by src/audio/vad.ts assessAudio (no too-short verdict: the window length is the run's):
 * a window without speech (less than 0.25 s voice-active) is not classified but listed in `flaggedSegments`, and
 * left out of the mean. The streaming recognizer's default gate (src/stream speechInWindow) is the same rule.
 * SegmentClassifier does the same for a recording that arrives in chunks.
 */
export async function classifySegments(
  samples: Float32Array,
  inputs: RecordingInputs,
  config: Pick<RunConfig, 'durationS' | 'labels'>,
  probabilities: ClipProbabilities,
  options: SegmentOptions = {},
): Promise<SegmentedPrediction> {
  const classifier = new SegmentClassifier(inputs, config, probabilities, options);
  await classifier.push(samples);
  return classifier.finish();
}

/** Options of classifySegments and SegmentClassifier. */
export interface SegmentOptions {
  /** Seconds between window starts (default: the clip length). */
  hopS?: number;
  /** Model inputs per call (default 1). */
  batch?: number;
  /** Leave windows without speech unclassified (default false). */
  gate?: boolean;
}

/**
 * classifySegments on a recording that arrives in chunks of any size (a long file read window by window): `push`
 * the samples in order, then `finish`; the same windows, batches and numbers as classifySegments on the whole
 * recording. It holds the samples from the next window's start on and the windows of one model batch, so memory does
 * not grow with the recording (only the list of results does).
 */
export class SegmentClassifier {
  private readonly inputs: RecordingInputs;
  private readonly config: Pick<RunConfig, 'durationS' | 'labels'>;
  private readonly probabilities: ClipProbabilities;
  private readonly gate: boolean;
  private readonly batch: number;
  private readonly rate: number;
  /** Window length and hop in samples. */
  private readonly window: number;
  private readonly hop: number;
  /** Samples from absolute index `origin` on; `received` in all so far. */
  private buffer: Float32Array = new Float32Array(0);
  private origin = 0;
  private received = 0;
  /** The next window's start (absolute samples). */
  private nextStart = 0;
  /** Windows kept for the next model batch: start, end (samples) and their model inputs. */
  private pending: Array<{ start: number; end: number; windows: Float32Array; count: number }> = [];
  private readonly segments: SegmentPrediction[] = [];
  private readonly flaggedSegments: FlaggedSegment[] = [];
  private readonly sum: Float64Array;

  constructor(
    inputs: RecordingInputs,
    config: Pick<RunConfig, 'durationS' | 'labels'>,
    probabilities: ClipProbabilities,
    options: SegmentOptions = {},
  ) {
    const hopS = options.hopS ?? config.durationS;
    if (!(hopS > 0 && Number.isFinite(hopS)))
      throw new SerError('EARG', 'predict', `the hop must be a positive number of seconds (${hopS} given)`);
    this.inputs = inputs;
    this.config = config;
    this.probabilities = probabilities;
    this.gate = options.gate ?? false;
    this.batch = Math.max(1, options.batch ?? 1);
    this.rate = inputs.frontEnd.config.sampleRateHz;
    this.window = samplesFor(config.durationS, inputs.frontEnd.config);
    this.hop = Math.max(1, samplesFor(hopS, inputs.frontEnd.config));
    segmentStarts(0, this.window, this.hop); // checks window and hop
    this.sum = new Float64Array(config.labels.length);
  }

  /** The next samples of the recording; classifies every window they complete. */
  async push(samples: Float32Array): Promise<void> {
    if (this.buffer.length === 0) {
      this.buffer = samples; // no copy: a whole recording pushed at once is only read
    } else {
      const joined = new Float32Array(this.buffer.length + samples.length);
      joined.set(this.buffer);
      joined.set(samples, this.buffer.length);
      this.buffer = joined;
    }
    this.received += samples.length;
    while (this.nextStart + this.window <= this.received) await this.take(this.nextStart + this.window);
    // Samples before the next window's start are never read again.
    const keepFrom = Math.min(this.nextStart, this.received);
    if (keepFrom > this.origin) {
      this.buffer = this.buffer.subarray(keepFrom - this.origin);
      this.origin = keepFrom;
    }
  }

  /** The windows the end of the recording leaves (kept while at least half is audio; the first always), and the result. */
  async finish(): Promise<SegmentedPrediction> {
    const starts = segmentStarts(this.received, this.window, this.hop);
    while (this.nextStart <= (starts[starts.length - 1] as number)) await this.take(Math.min(this.nextStart + this.window, this.received));
    await this.flush();
    const { segments, flaggedSegments, config } = this;
    if (segments.length === 0) return { label: '', probabilities: {}, segments, flaggedSegments };
    return {
      ...labelPrediction(
        Array.from(this.sum, (v) => v / segments.length),
        config.labels,
      ),
      segments,
      flaggedSegments,
    };
  }

  /** Judges the window at nextStart (its samples up to `end`), queues it for the model, and moves to the next start. */
  private async take(end: number): Promise<void> {
    const start = this.nextStart;
    this.nextStart += this.hop;
    const samples = this.buffer.subarray(start - this.origin, end - this.origin);
    const verdict = this.gate ? assessAudio(samples, this.rate, 'window', { minDurationS: 0 }) : null;
    if (verdict && verdict.kind !== 'ok') {
      const speechS = verdict.kind === 'flagged' ? verdict.activity.speechS : 0;
      this.flaggedSegments.push({ startS: start / this.rate, endS: end / this.rate, flag: 'no_speech', speechS });
      return;
    }
    this.pending.push({ start, end, ...this.inputs.of(samples) });
    if (this.pending.length === this.batch) await this.flush();
  }

  /** Runs the model on the pending windows (one batch, as classifySegments groups them). */
  private async flush(): Promise<void> {
    const chunk = this.pending;
    if (chunk.length === 0) return;
    this.pending = [];
    const classes = this.config.labels.length;
    const joined = new Float32Array(chunk.reduce((sum, c) => sum + c.windows.length, 0));
    let at = 0;
    for (const c of chunk) {
      joined.set(c.windows, at);
      at += c.windows.length;
    }
    const rows = await recordingProbabilities(
      joined,
      chunk.map((c) => c.count),
      classes,
      this.probabilities,
      this.batch,
    );
    chunk.forEach((c, i) => {
      const row = rows.subarray(i * classes, (i + 1) * classes);
      for (let k = 0; k < classes; k++) this.sum[k]! += row[k] as number;
      this.segments.push({ startS: c.start / this.rate, endS: c.end / this.rate, ...labelPrediction(row, this.config.labels) });
    });
  }
}
