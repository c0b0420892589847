/**
 * Emotion as the audio arrives: push chunks of any size, at any sample rate, and get each window's result as soon
 * as its last sample is in. One definition for Node (src/stream/node.ts, onnxruntime-node) and browsers
 * (src/web EmotionRecognizer.stream, onnxruntime-web); nothing here uses Node APIs.
 *
 *   chunks (rate inputRateHz, mono or channels mixed down as torchaudio does)
 *     -> StreamResampler to the front end's rate (the same samples as resampling the whole recording)
 *     -> windows of windowS seconds every hopS seconds: starts 0, hop, 2 hop, ... (model-use.ts segmentStarts:
 *        at end(), the windows at least half full of audio, the first always)
 *     -> voice activity (default: src/audio/vad.ts's rule, speechInWindow): a window without speech is reported as { label: 'silence', speech: false }
 *        and the model does not run on it
 *     -> each speech window classified as a recording of its own (RecordingInputs: the run's recipe windows),
 *        exactly as `ser predict --segments` classifies it
 *
 * With windowS = hopS = the run's clip length (the defaults), speech windows equal
 * classifySegments / `ser predict --segments` on the whole recording (test/stream/recognizer.test.ts).
 */
import { toMono, validateSamples } from '../audio/signal.js';
import { assessAudio } from '../audio/vad.js';
import { SerError } from '../errors.js';
import { samplesFor } from '../features/config.js';
import {
  type ClipProbabilities,
  type RecordingInputs,
  type SegmentPrediction,
  labelPrediction,
  recordingProbabilities,
} from '../infer/model-use.js';
import { StreamResampler } from '../audio/stream-resampler.js';

/** The label of a window without speech. */
export const SILENCE_LABEL = 'silence';

/**
 * Does this window (mono, at `sampleRateHz`) hold speech? The default is the project's rule (speechInWindow:
 * src/audio/vad.ts assessAudio); any other (a neural VAD, a telephony bridge's flag) fits this shape.
 */
export type SpeechGate = (samples: Float32Array, sampleRateHz: number) => boolean;

/**
 * The project's voice-activity rule on one window (src/audio/vad.ts assessAudio, its defaults): speech when at
 * least 0.25 s of it is voice-active. Windows of any length are judged (no too-short verdict: the window length is
 * the caller's choice).
 */
export const speechInWindow: SpeechGate = (samples, sampleRateHz) =>
  assessAudio(samples, sampleRateHz, 'stream window', { minDurationS: 0 }).kind === 'ok';

/** What the recognizer needs of a loaded model (RunModel in Node, EmotionRecognizer in browsers). */
export interface WindowModel {
  readonly inputs: RecordingInputs;
  readonly labels: readonly string[];
  /** The clip length the model was trained on, seconds (the default window). */
  readonly durationS: number;
  readonly probabilities: ClipProbabilities;
  /** Model inputs per call (a window's crops go together). */
  readonly batch: number;
}

export interface StreamOptions {
  /** Sample rate of the pushed audio, Hz (a positive integer). */
  inputRateHz: number;
  /** Window length, seconds (default: the run's clip length). */
  windowS?: number;
  /** Seconds between window starts (default: windowS, no overlap). */
  hopS?: number;
  /** Speech test per window (default speechInWindow, the project's rule); null: every window is classified. */
  speechGate?: SpeechGate | null;
}

/** One window's result; `speech` false: no speech, label SILENCE_LABEL and no probabilities. */
export interface StreamWindow extends SegmentPrediction {
  speech: boolean;
}

export class StreamingRecognizer {
  readonly windowSamples: number;
  readonly hopSamples: number;
  readonly sampleRateHz: number;
  private readonly resampler: StreamResampler;
  private readonly speechGate: SpeechGate | null;
  /** Samples at the front end's rate from absolute index `origin` on. */
  private buffer = new Float32Array(0);
  private origin = 0;
  private length = 0;
  private nextWindow = 0;
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly model: WindowModel,
    private readonly options: StreamOptions,
  ) {
    const { inputRateHz } = options;
    const windowS = options.windowS ?? model.durationS;
    const hopS = options.hopS ?? windowS;
    const problems: string[] = [];
    if (!(Number.isInteger(inputRateHz) && inputRateHz > 0)) problems.push(`inputRateHz must be a positive integer (${inputRateHz} given)`);
    if (!(windowS > 0 && Number.isFinite(windowS))) problems.push(`windowS must be a positive number of seconds (${windowS} given)`);
    if (!(hopS > 0 && Number.isFinite(hopS))) problems.push(`hopS must be a positive number of seconds (${hopS} given)`);
    if (problems.length > 0) throw new SerError('EARG', 'stream', problems.join('; '));
    const frontEnd = model.inputs.frontEnd.config;
    this.sampleRateHz = frontEnd.sampleRateHz;
    this.windowSamples = Math.max(1, samplesFor(windowS, frontEnd));
    this.hopSamples = Math.max(1, samplesFor(hopS, frontEnd));
    this.resampler = new StreamResampler(inputRateHz, this.sampleRateHz);
    this.speechGate = options.speechGate === undefined ? speechInWindow : options.speechGate;
  }

  /** Seconds of audio received so far (at the front end's rate, after resampling). */
  get receivedS(): number {
    return this.length / this.sampleRateHz;
  }

  /**
   * Adds a chunk (mono samples, or one array per channel); resolves to the windows it completes, in order.
   * Calls may overlap: chunks are taken in call order.
   */
  push(chunk: Float32Array | readonly Float32Array[]): Promise<StreamWindow[]> {
    if (this.ended) return Promise.reject(new SerError('EARG', 'stream', 'push() after end()'));
    const mono = chunk instanceof Float32Array ? chunk : toMono([...chunk]);
    if (mono.length > 0) validateSamples(mono, this.options.inputRateHz, 'stream chunk');
    return this.enqueue(() => this.take(this.resampler.push(mono), false));
  }

  /** The audio is over: the remaining windows (those at least half full, the first always). */
  end(): Promise<StreamWindow[]> {
    if (this.ended) return Promise.reject(new SerError('EARG', 'stream', 'end() called twice'));
    this.ended = true;
    return this.enqueue(() => this.take(this.resampler.end(), true));
  }

  private enqueue(work: () => Promise<StreamWindow[]>): Promise<StreamWindow[]> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async take(samples: Float32Array, final: boolean): Promise<StreamWindow[]> {
    this.append(samples);
    const out: StreamWindow[] = [];
    for (;;) {
      const start = this.nextWindow * this.hopSamples;
      const complete = start + this.windowSamples <= this.length;
      const lastPartial = final && (this.nextWindow === 0 || start + this.windowSamples / 2 <= this.length);
      if (!complete && !lastPartial) break;
      out.push(await this.classify(start, Math.min(start + this.windowSamples, this.length)));
      this.nextWindow++;
    }
    return out;
  }

  private append(samples: Float32Array): void {
    // Samples before the next window's start are never read again.
    const keepFrom = Math.min(this.nextWindow * this.hopSamples, this.length);
    const kept = this.buffer.subarray(keepFrom - this.origin);
    const next = new Float32Array(kept.length + samples.length);
    next.set(kept);
    next.set(samples, kept.length);
    this.buffer = next;
    this.origin = keepFrom;
    this.length += samples.length;
  }

  private async classify(start: number, end: number): Promise<StreamWindow> {
    const rate = this.sampleRateHz;
    const span = { startS: start / rate, endS: end / rate };
    const samples = this.buffer.subarray(start - this.origin, end - this.origin);
    if (samples.length === 0 || (this.speechGate && !this.speechGate(samples, rate))) {
      return { ...span, label: SILENCE_LABEL, probabilities: {}, speech: false };
    }
    const { labels, inputs, probabilities, batch } = this.model;
    const { windows, count } = inputs.of(samples);
    const row = await recordingProbabilities(windows, [count], labels.length, probabilities, batch);
    return { ...span, ...labelPrediction(row, labels), speech: true };
  }
}
