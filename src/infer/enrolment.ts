/**
 * Enrolling a speaker for a model trained with speaker-level input normalisation (src/features/speaker-norm.ts): the
 * band statistics of the speaker, taken from recordings of theirs (files, or folders of them), with which every
 * window of their speech is normalised (model-use.ts RecordingInputs). How many recordings that needs is measured in
 * RESULTS.md (see ADVISED_ENROLMENT_RECORDINGS).
 */
import { statSync } from 'node:fs';
import { listAudioFiles } from '../data/corpus.js';
import { SerError } from '../errors.js';
import type { BandNormalizer } from '../features/speaker-norm.js';
import type { RecordingInputs } from './model-use.js';
import { usableAudio } from './recording-windows.js';

/**
 * Recordings of a speaker below which a speaker-normalised model scores far below its training evaluation
 * (RESULTS.md, "What the normalisation needs at inference": about ten of mixed emotions; with one to three such
 * models fall far below); `ser predict --enrol` warns below it.
 */
export const ADVISED_ENROLMENT_RECORDINGS = 10;

/** The audio files of `paths`: each file as given, each folder's audio files (listed as corpora are, sorted). */
export function enrolmentFiles(paths: readonly string[]): string[] {
  if (paths.length === 0)
    throw new SerError('EARG', 'enrol', "no recordings given to enrol the speaker with (files or folders of the speaker's speech)");
  return paths.flatMap((path) => {
    let folder: boolean;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      throw new SerError('EIO', 'enrol', `${path}: no such file or folder to enrol the speaker with`);
    }
    if (!folder) return [path];
    const files = listAudioFiles(path);
    if (files.length === 0) throw new SerError('EDATA', 'enrol', `${path}: the folder holds no audio files to enrol the speaker with`);
    return files;
  });
}

/**
 * The band statistics of the speaker of `paths` (files or folders) under `inputs`' model: each recording read as
 * the model reads it (its first recipe.input.maxS seconds) and judged by the unusable-audio rule. A file that cannot
 * be used is an error naming it (statistics over what is left would silently describe someone else's mix).
 */
export async function enrolSpeaker(inputs: RecordingInputs, paths: readonly string[]): Promise<BandNormalizer> {
  const recordings: Float32Array[] = [];
  for (const file of enrolmentFiles(paths)) {
    const usable = await usableAudio(file, inputs.frontEnd.config.sampleRateHz, inputs);
    if ('error' in usable) throw new SerError('EIO', 'enrol', `${file}: cannot enrol the speaker with it (${usable.error}); leave it out`);
    if ('flag' in usable) {
      throw new SerError(
        'EDATA',
        'enrol',
        `${file}: cannot enrol the speaker with it: ${usable.flag} (${usable.reason}); give recordings of the speaker's speech`,
      );
    }
    recordings.push(usable.samples);
  }
  return inputs.speakerStatistics(recordings);
}
