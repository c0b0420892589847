/**
 * From an audio file to what predictFiles gives the model: the file read (only the seconds the model reads),
 * judged by the unusable-audio rule (src/audio/vad.ts), and made into the run's input windows (model-use.ts
 * RecordingInputs); or why it cannot be classified. No ONNX Runtime here: window-worker.ts runs this module on
 * worker threads.
 */
import { type LoadedAudio, type VoiceActivity, assessAudio, loadAudio } from '../audio/index.js';
import { SerError } from '../errors.js';
import type { FlaggedRecording, RecordingInputs } from './model-use.js';

/**
 * A file given no emotion because it holds no speech or is too short to judge (src/audio/vad.ts assessAudio):
 * `reason` says what was measured.
 */
export interface FlaggedPrediction extends FlaggedRecording {
  file: string;
  warnings?: string[];
}

/** A file that could not be classified: the error's message and code (SerError codes: EIO, EDECODE, ...). */
export interface FailedPrediction {
  file: string;
  error: string;
  code: string;
}

/** A file's model input windows [count, nMels, frames], and what decoding worked around (absent when nothing). */
export interface RecordingWindows {
  file: string;
  windows: Float32Array;
  count: number;
  warnings?: string[];
}

/** The input windows of `file` under `inputs`, or why it gets no emotion (FlaggedPrediction) or none at all (FailedPrediction). */
export async function recordingWindows(
  file: string,
  inputs: RecordingInputs,
): Promise<RecordingWindows | FlaggedPrediction | FailedPrediction> {
  const usable = await usableAudio(file, inputs.frontEnd.config.sampleRateHz, inputs);
  return 'samples' in usable ? { file, ...inputs.of(usable.samples), warnings: usable.warnings } : usable;
}

/**
 * The samples of `file` at `sampleRateHz` with their voice activity when it can be classified, else the
 * FailedPrediction (unreadable, undecodable, unusable samples) or FlaggedPrediction (no speech, too short). With
 * `inputs`, only the seconds the model reads (a long WAV/AIFF is not read whole), judged as the model hears them.
 */
export async function usableAudio(
  file: string,
  sampleRateHz: number,
  inputs?: RecordingInputs,
): Promise<{ samples: Float32Array; activity: VoiceActivity; warnings?: string[] } | FlaggedPrediction | FailedPrediction> {
  let audio: LoadedAudio;
  try {
    audio = await loadAudio(file, inputs === undefined ? { sampleRateHz } : { sampleRateHz, maxS: inputs.secondsRead });
  } catch (error) {
    return failure(file, error);
  }
  const warnings = audio.warnings.length > 0 ? { warnings: audio.warnings } : {};
  const verdict = assessAudio(inputs ? inputs.readPart(audio.samples) : audio.samples, sampleRateHz, file);
  if (verdict.kind === 'error') return failure(file, verdict.error);
  if (verdict.kind === 'flagged') return { file, flag: verdict.flag, reason: verdict.reason, ...warnings };
  return { samples: audio.samples, activity: verdict.activity, ...warnings };
}

/** A FailedPrediction from what loading `file` threw; its message names the file. */
export function failure(file: string, error: unknown): FailedPrediction {
  const message = error instanceof Error ? error.message : String(error);
  return { file, error: message.includes(file) ? message : `${file}: ${message}`, code: error instanceof SerError ? error.code : 'EIO' };
}
