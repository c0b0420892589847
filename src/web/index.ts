/**
 * Emotion recognition in browsers (or any JavaScript runtime) with a model trained by `ser train`: the run
 * directory's model.onnx and config.json, run by onnxruntime-web (an optional peer dependency: install it next to
 * speech-emotion). Audio comes in decoded, from WebAudio's decodeAudioData, a microphone's samples or
 * src/audio's decodeAudio, and takes the training pipeline's own steps: mono mixdown, resampling to the front
 * end's rate, the run's model inputs (src/infer/model-use.ts RecordingInputs: the recipe's windows, or the first
 * clip of runs made before recipes), so a recording gets the same probabilities as `ser predict` gives its file.
 * Nothing imported here uses Node APIs.
 *
 *   import { EmotionRecognizer } from 'speech-emotion/web';
 *   const recognizer = await EmotionRecognizer.create({
 *     model: await (await fetch('run/model.onnx')).arrayBuffer(),
 *     config: await (await fetch('run/config.json')).json(),
 *   });
 *   const audio = await new AudioContext().decodeAudioData(await file.arrayBuffer());
 *   const result = await recognizer.classify(audio);
 *   if ('flag' in result) show(result.flag, result.reason); // too_short or no_speech: no emotion for it
 *   else show(result.label, result.probabilities);
 */
import { fromDecoded } from '../audio/signal.js';
import { assessAudio } from '../audio/vad.js';
import { SerError } from '../errors.js';
import { framesFor } from '../features/config.js';
import { type WebSessionOptions, createWebSession } from '../runtime/ort-web.js';
import type { Session } from '../runtime/types.js';
import {
  type FlaggedRecording,
  type LabelledPrediction,
  MODEL_BATCH,
  type RunConfig,
  RecordingInputs,
  type SegmentedPrediction,
  checkRunConfig,
  classifySegments,
  labelPrediction,
  recordingProbabilities,
  requireSpeaker,
} from '../infer/model-use.js';
import { type StreamOptions, StreamingRecognizer } from '../stream/recognizer.js';

export type {
  FlaggedRecording,
  FlaggedSegment,
  LabelledPrediction,
  SegmentPrediction,
  SegmentedPrediction,
} from '../infer/model-use.js';
export type { AudioFlag } from '../audio/vad.js';
export type { WebSessionOptions } from '../runtime/ort-web.js';
export {
  SILENCE_LABEL,
  type StreamOptions,
  type StreamWindow,
  StreamingRecognizer,
  type SpeechGate,
  speechInWindow,
} from '../stream/recognizer.js';

/**
 * Where the shipped default model is, next to this module in the installed package (dist/web/ ->
 * assets/models/default/). A bundler that moves this module elsewhere must serve that folder and pass its URL to
 * EmotionRecognizer.load (the demo page does: src/web/demo).
 */
export const DEFAULT_MODEL_URL: string = new URL('../../assets/models/default/', import.meta.url).href;

/** Fetches a run directory's model.onnx and config.json from `url` (a folder URL ending in '/'). */
export async function fetchRun(url: string): Promise<{ model: Uint8Array; config: unknown }> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const get = async (name: string) => {
    const response = await fetch(new URL(name, base));
    if (!response.ok)
      throw new SerError('EIO', 'web', `${new URL(name, base).href}: HTTP ${response.status} (serve the run directory there)`);
    return response;
  };
  const [model, config] = await Promise.all([get('model.onnx'), get('config.json')]);
  return { model: new Uint8Array(await model.arrayBuffer()), config: await config.json() };
}

/** Decoded audio: one Float32Array per channel (equal lengths) and the sample rate in Hz. */
export interface PcmAudio {
  channels: readonly Float32Array[];
  sampleRateHz: number;
}

/** The part of WebAudio's AudioBuffer used here. */
export interface AudioBufferLike {
  readonly numberOfChannels: number;
  readonly sampleRate: number;
  getChannelData(channel: number): Float32Array;
}

export class EmotionRecognizer {
  /** The run's config.json. */
  readonly config: RunConfig;
  /** Class names in the model's output order. */
  readonly labels: readonly string[];
  private readonly inputs: RecordingInputs;
  private readonly session: Session;

  private constructor(config: RunConfig, inputs: RecordingInputs, session: Session) {
    this.config = config;
    this.labels = config.labels;
    this.inputs = inputs;
    this.session = session;
  }

  /** Loads a run's model.onnx bytes and parsed config.json; errors say which is wrong. */
  static async create(
    run: { model: Uint8Array | ArrayBuffer; config: unknown },
    options: WebSessionOptions = {},
  ): Promise<EmotionRecognizer> {
    const config = checkRunConfig(run.config, 'config.json');
    requireSpeaker(config, undefined); // a speaker-normalised model: the browser takes no speaker statistics
    const inputs = new RecordingInputs(config);
    const frontEnd = inputs.frontEnd;
    const frames = framesFor(config.durationS, frontEnd.config);
    if (frontEnd.config.nMels !== config.model.nMels || frames !== config.model.frames || config.labels.length !== config.model.nClasses) {
      throw new SerError(
        'EFORMAT',
        'web',
        `config.json: the front end (${frontEnd.config.nMels} mels, ${config.durationS} s = ${frames} frames) and labels (${config.labels.length}) ` +
          `do not fit the model (${config.model.nMels} mels, ${config.model.frames} frames, ${config.model.nClasses} classes); use the config.json of the same run`,
      );
    }
    const session = await createWebSession(run.model instanceof Uint8Array ? run.model : new Uint8Array(run.model), options);
    if (!session.inputNames.includes('mel') || !session.outputNames.includes('probabilities')) {
      await session.release();
      throw new SerError(
        'EFORMAT',
        'web',
        `model.onnx has inputs [${session.inputNames}] and outputs [${session.outputNames}]; expected 'mel' -> 'probabilities' (a run's model.onnx)`,
      );
    }
    return new EmotionRecognizer(config, inputs, session);
  }

  /**
   * Loads the run directory served at `url` (its model.onnx and config.json); default: the shipped model
   * (DEFAULT_MODEL_URL).
   */
  static async load(url: string = DEFAULT_MODEL_URL, options: WebSessionOptions = {}): Promise<EmotionRecognizer> {
    return EmotionRecognizer.create(await fetchRun(url), options);
  }

  /**
   * A streaming recognizer on this model (src/stream/recognizer.ts, the same as `ser stream`): push microphone or
   * network chunks at `inputRateHz`, get each window's result as it completes.
   */
  stream(options: StreamOptions): StreamingRecognizer {
    return new StreamingRecognizer(
      {
        inputs: this.inputs,
        labels: this.labels,
        durationS: this.config.durationS,
        probabilities: (mel) => this.probabilities(mel),
        batch: MODEL_BATCH,
      },
      options,
    );
  }

  /**
   * The model inputs of `audio`: `count` log-mel windows [count, nMels, frames] row-major (RecordingInputs).
   * `source` names the audio in errors.
   */
  features(audio: PcmAudio | AudioBufferLike, source = 'audio'): { windows: Float32Array; count: number } {
    return this.inputs.of(this.monoSamples(audio, source));
  }

  /**
   * The most probable emotion of `audio` (the mean over its windows) and every class's probability; or, for audio
   * shorter than 0.5 s or without speech, a `too_short` / `no_speech` flag with the reason and no emotion (the rule of
   * `ser predict`, src/audio/vad.ts assessAudio, on the same samples: the part the model reads).
   */
  async classify(audio: PcmAudio | AudioBufferLike, source = 'audio'): Promise<LabelledPrediction | FlaggedRecording> {
    const samples = this.monoSamples(audio, source);
    const verdict = assessAudio(this.inputs.readPart(samples), this.inputs.frontEnd.config.sampleRateHz, source);
    if (verdict.kind === 'error') throw verdict.error;
    if (verdict.kind === 'flagged') return { flag: verdict.flag, reason: verdict.reason };
    const { windows, count } = this.inputs.of(samples);
    const row = await recordingProbabilities(windows, [count], this.labels.length, (mel) => this.probabilities(mel), MODEL_BATCH);
    return labelPrediction(row, this.labels);
  }

  /**
   * The whole of a long recording, window by window: windows of the run's clip length every `hopS` seconds
   * (default: the clip length), each window's prediction and the label of their mean probabilities. Windows with
   * less than 0.25 s of speech (src/audio/vad.ts) are listed in `flaggedSegments` instead, as `ser predict --segments` does.
   */
  async classifySegments(
    audio: PcmAudio | AudioBufferLike,
    options: { hopS?: number; source?: string } = {},
  ): Promise<SegmentedPrediction> {
    const samples = this.monoSamples(audio, options.source ?? 'audio');
    // One window per model run: a model.onnx from before the symbolic batch axis takes exactly one clip.
    return classifySegments(samples, this.inputs, this.config, (mel) => this.probabilities(mel), { hopS: options.hopS, gate: true });
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** Mono samples at the front end's rate (mixdown, checks, resampling as in training). */
  private monoSamples(audio: PcmAudio | AudioBufferLike, source: string): Float32Array {
    const pcm = toPcm(audio, source);
    return fromDecoded({ channels: [...pcm.channels], sampleRateHz: pcm.sampleRateHz, format: 'pcm' }, source, {
      sampleRateHz: this.inputs.frontEnd.config.sampleRateHz,
    }).samples;
  }

  /** The model's class probabilities for one clip's log-mel. */
  private async probabilities(mel: Float32Array): Promise<Float32Array> {
    const { nMels, frames } = this.config.model;
    const out = await this.session.run({ mel: { data: mel, shape: [MODEL_BATCH, 1, nMels, frames] } }, ['probabilities']);
    return out.probabilities?.data as Float32Array;
  }
}

function toPcm(audio: PcmAudio | AudioBufferLike, source: string): PcmAudio {
  const pcm =
    'getChannelData' in audio
      ? { channels: Array.from({ length: audio.numberOfChannels }, (_, c) => audio.getChannelData(c)), sampleRateHz: audio.sampleRate }
      : audio;
  const problems: string[] = [];
  if (!Number.isInteger(pcm.sampleRateHz) || pcm.sampleRateHz <= 0)
    problems.push(`the sample rate must be a positive integer in Hz (${pcm.sampleRateHz} given)`);
  if (!Array.isArray(pcm.channels) || pcm.channels.length === 0 || !pcm.channels.every((c) => c instanceof Float32Array)) {
    problems.push('channels must be a non-empty array of Float32Array');
  } else if (pcm.channels.some((c) => c.length !== pcm.channels[0]?.length)) {
    problems.push(`the channels differ in length (${pcm.channels.map((c) => c.length).join(', ')} samples)`);
  }
  if (problems.length > 0) throw new SerError('EARG', 'web', `${source}: ${problems.join('; ')}`);
  return pcm;
}
