/**
 * One feature row of one audio file, the unit feature-cache.ts computes (on the calling thread, or on worker threads:
 * feature-worker.ts runs this same code on the same samples, so the rows are equal to the bit). What a row is made of
 * is a RowRecipe, plain data a worker receives as it is:
 *
 * - clip: the first `offsetS + durationS` seconds -> clipLogMel: skip `offsetS` -> fixLength to `durationS` ->
 *   LogMelFrontEnd.logMel -> [nMels, frames].
 * - utterance: the first `maxS` seconds -> utteranceLogMel (dB without the top_db clamp; the recipe's front end has
 *   topDb null) -> [nMels, T] with T varying per file.
 *
 * With `screen`, a recording src/audio/vad.ts assessAudio flags (no speech, too short) is skipped with its flag.
 */
import { type AudioAssessment, type AudioFlag, AudioAssessor, assessAudio, loadAudio, openAudioChunks } from '../audio/index.js';
import { SerError } from '../errors.js';
import { type FrontEndConfig, LogMelFrontEnd, clipLogMel, samplesFor } from '../features/index.js';
import { utteranceLogMel } from '../features/utterance.js';

/** What a row is made of (see the module comment); `engine: 'typescript'` when the front end skips the WebAssembly kernel. */
export type RowRecipe = { frontEnd: FrontEndConfig; engine?: 'typescript'; screen: boolean } & (
  | { kind: 'clip'; durationS: number; offsetS: number }
  | { kind: 'utterance'; maxS: number }
);

/** A file left out: why (the error's message), and with `screen` the flag of a file judged unusable (vad.ts). */
export interface SkippedFile {
  path: string;
  error: string;
  /** Set when the file decoded but holds no speech or is too short (screened out); absent for read/decode errors. */
  flag?: AudioFlag;
}

/** A file's row, or why it has none; with what decoding worked around either way (a truncated file decoded as far as it goes). */
export type RowOutcome = ({ row: Float32Array } | { skipped: SkippedFile }) & { warnings: string[] };

/** Makes the rows of one RowRecipe. Holds a front end with scratch buffers: one per thread. */
export class FeatureRowMaker {
  readonly recipe: RowRecipe;
  private readonly frontEnd: LogMelFrontEnd;

  /** `frontEnd`: an instance built from `recipe.frontEnd` to reuse (default: a new one). */
  constructor(recipe: RowRecipe, frontEnd?: LogMelFrontEnd) {
    this.recipe = recipe;
    this.frontEnd = frontEnd ?? new LogMelFrontEnd(recipe.frontEnd, recipe.engine ? { engine: recipe.engine } : {});
  }

  /** The row of `path`, or the file skipped: never throws for one bad file (the error's message goes in `skipped`). */
  async rowOf(path: string): Promise<RowOutcome> {
    const { recipe, frontEnd } = this;
    const config = frontEnd.config;
    const warnings: string[] = [];
    try {
      const keep =
        recipe.kind === 'clip'
          ? samplesFor(recipe.offsetS, config) + samplesFor(recipe.durationS, config)
          : samplesFor(recipe.maxS, config);
      const samples = await usableSamples(path, config.sampleRateHz, { screen: recipe.screen, keep }, warnings);
      if (!(samples instanceof Float32Array)) return { skipped: samples, warnings };
      const row =
        recipe.kind === 'clip'
          ? clipLogMel(frontEnd, samples, recipe.durationS, recipe.offsetS)
          : utteranceLogMel(frontEnd, samples, recipe.maxS).data;
      return { row, warnings };
    } catch (error) {
      return { skipped: { path, error: error instanceof Error ? error.message : String(error) }, warnings };
    }
  }
}

/**
 * The first `keep` samples of `path` at `sampleRateHz` (all the features read); with `screen`, the skipped file when
 * assessAudio flags the whole recording. WAV and AIFF files are read a chunk at a time (src/audio openAudioChunks:
 * the same samples, checks and verdict as loading them whole), so a long recording does not fill memory; other
 * formats are decoded whole.
 */
async function usableSamples(
  path: string,
  sampleRateHz: number,
  options: { screen: boolean; keep: number },
  warnings: string[],
): Promise<Float32Array | SkippedFile> {
  const chunks = await openAudioChunks(path, { sampleRateHz });
  let samples: Float32Array;
  let verdict: AudioAssessment | null = null;
  if (chunks) {
    warnings.push(...chunks.warnings);
    const assessor = options.screen ? new AudioAssessor(sampleRateHz, path) : null;
    const kept: Float32Array[] = [];
    let held = 0;
    // To the end even when the samples kept are in: every sample is checked, as loading the file whole does.
    for await (const chunk of chunks.chunks()) {
      assessor?.push(chunk);
      if (held < options.keep) {
        kept.push(chunk.slice(0, options.keep - held));
        held += (kept[kept.length - 1] as Float32Array).length;
      }
    }
    samples = joinChunks(kept, held);
    verdict = assessor?.finish() ?? null;
  } else {
    const loaded = await loadAudio(path, { sampleRateHz });
    warnings.push(...loaded.warnings);
    samples = loaded.samples;
    if (options.screen) verdict = assessAudio(samples, sampleRateHz, path);
  }
  if (!verdict) return samples;
  if (verdict.kind === 'error') throw verdict.error;
  if (verdict.kind === 'flagged') {
    const error = new SerError('EAUDIO', 'load', `${path}: ${verdict.flag}: ${verdict.reason}`).message;
    return { path, error, flag: verdict.flag };
  }
  return samples;
}

function joinChunks(chunks: readonly Float32Array[], length: number): Float32Array {
  if (chunks.length === 1) return chunks[0] as Float32Array;
  const joined = new Float32Array(length);
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return joined;
}
