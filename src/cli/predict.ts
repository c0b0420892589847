/**
 * `ser predict`: the emotion of each audio file, with class probabilities, from a run's model.onnx (default: the
 * model shipped in the package); with --segments, of each window of the run's clip length along the file (long
 * recordings). Files that cannot be used get an error line (or a JSON object with `error` and `code`), files with
 * no speech or too short a line flagged no_speech / too_short (or a JSON object with `flag` and `reason`), never an
 * emotion; the others go on. The exit code is 1 only when no file could be used (or any could not, with --strict).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { SerError } from '../errors.js';
import { ADVISED_ENROLMENT_RECORDINGS, enrolmentFiles } from '../infer/enrolment.js';
import { type FailedPrediction, type FlaggedPrediction, predictFiles, predictSegments } from '../infer/inference.js';
import type { LabelledPrediction } from '../infer/model-use.js';
import { DEFAULT_THREADS } from '../runtime/index.js';
import { type CountProgress, createCountProgress } from '../train/progress.js';
import { collect, jobsOption, parseJobs, parseNumber } from './options.js';

interface PredictFlags {
  model?: string;
  json?: boolean;
  threads?: string;
  jobs?: string;
  segments?: boolean;
  hop?: string;
  strict?: boolean;
  enrol?: string[];
}

/** From this many files, `ser predict` on a terminal shows a progress bar. */
const MANY_FILES = 100;
/** From this length (seconds), `ser predict --segments` on a terminal shows a bar per recording. */
const LONG_RECORDING_S = 60;

/**
 * `ser predict --segments` on a terminal: a bar with the ETA per recording of at least LONG_RECORDING_S, over the
 * seconds of its audio classified (predictSegments' onProgress); `finish` ends the last one.
 */
function segmentProgress(enabled: boolean): { update: (file: string, doneS: number, totalS: number) => void; finish: () => void } {
  // The bar of the file being read; `done` once it reached its total (the bar stops itself there, and an update
  // after that would draw it again).
  let current: { file: string; totalS: number; progress: CountProgress; done: boolean; lastS: number } | null = null;
  const show = (doneS: number): void => {
    if (!current || current.done) return;
    current.done = doneS >= current.totalS;
    current.progress.update(current.done ? current.totalS : Math.min(Math.floor(doneS), current.totalS - 1), current.totalS);
  };
  const finish = (): void => {
    show(Number.POSITIVE_INFINITY); // ends the bar of a file that failed midway too
    current = null;
  };
  return {
    update(file, doneS, totalS) {
      if (!enabled || totalS < LONG_RECORDING_S) return;
      let reading = current;
      // A new file, or the same file again (given twice): its count starts over.
      if (reading?.file !== file || doneS < reading.lastS) {
        finish();
        reading = current = {
          file,
          totalS: Math.ceil(totalS),
          progress: createCountProgress('bar', `${basename(file)} (seconds of audio)`),
          done: false,
          lastS: 0,
        };
      }
      reading.lastS = doneS;
      show(doneS >= totalS ? Number.POSITIVE_INFINITY : doneS);
    },
    finish,
  };
}

export function register(program: Command): void {
  program
    .command('predict')
    .description("classify audio files with a trained run's model.onnx, or the model shipped with speech-emotion")
    .option('--model <run_dir>', 'run directory made by ser train (default: the shipped model, see assets/models/default/MODEL_CARD.md)')
    .argument('<files...>', 'audio files (WAV, AIFF, FLAC, MP3, Ogg Vorbis, Opus, AAC/M4A, WebM, CAF)')
    .option(
      '--json',
      'print one JSON object per file: {"file", "label", "probabilities": {label: p}}, {"file", "flag", "reason"} or {"file", "error", "code"}',
    )
    .option('--threads <n>', `ONNX Runtime threads (default ${DEFAULT_THREADS})`)
    .addOption(jobsOption('decoding files while the model runs'))
    .option('--segments', "classify the whole file in windows of the run's clip length")
    .option('--hop <seconds>', 'with --segments: seconds between window starts (default: the clip length, no overlap)')
    .option('--strict', 'exit with code 1 when any file cannot be used (default: only when none can)')
    .option(
      '--enrol <file|folder>',
      'for a model trained with speaker normalisation: recordings of the speaker of every file, whose statistics normalise their speech (repeatable)',
      collect,
    )
    .action(async (files: string[], flags: PredictFlags) => {
      const threads = flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 });
      const jobs = parseJobs(flags.jobs);
      // Folders listed once, here: the warning counts the files the library then reads.
      const enrol = flags.enrol === undefined ? undefined : enrolmentFiles(flags.enrol);
      if (enrol !== undefined && enrol.length < ADVISED_ENROLMENT_RECORDINGS) {
        process.stderr.write(
          `ser: warning: the speaker is enrolled with ${enrol.length} recording(s); a speaker-normalised model needs about ` +
            `${ADVISED_ENROLMENT_RECORDINGS} of mixed emotions to score as in its evaluation (with one to three it falls far below)\n`,
        );
      }
      if (flags.hop !== undefined && !flags.segments) throw new SerError('EARG', 'predict', '--hop needs --segments');
      if (jobs !== undefined && flags.segments)
        throw new SerError('EARG', 'predict', '--jobs is not used with --segments (files are read a chunk at a time)');
      const ranked = (p: LabelledPrediction) =>
        Object.entries(p.probabilities)
          .sort((a, b) => b[1] - a[1])
          .map(([label, prob]) => `${label} ${(100 * prob).toFixed(1)}%`)
          .join(', ');
      const failures: FailedPrediction[] = [];
      const reportFailure = (f: FailedPrediction) => {
        failures.push(f);
        if (flags.json) process.stdout.write(JSON.stringify(f) + '\n');
        else process.stderr.write(`ser: ${f.error} [${f.code}]\n`);
      };
      // Warnings (a truncated file decoded as far as it goes) go to stderr; with --json they are also in the object.
      const warn = (p: { warnings?: string[] }) => {
        for (const w of p.warnings ?? []) process.stderr.write(`ser: warning: ${w}\n`);
      };
      let flagged = 0;
      const reportFlag = (f: FlaggedPrediction) => {
        flagged++;
        if (flags.json) process.stdout.write(JSON.stringify(f) + '\n');
        else process.stdout.write(`${f.file}: ${f.flag}  (${f.reason})\n`);
      };
      if (flags.segments) {
        const hopS = flags.hop === undefined ? undefined : parseNumber('--hop', flags.hop, { min: 0.01 });
        const progress = segmentProgress(process.stderr.isTTY === true);
        const predictions = await predictSegments(flags.model, files, { hopS, threads, enrol, onProgress: progress.update });
        progress.finish();
        for (const p of predictions) {
          if (!('error' in p)) warn(p);
          if ('error' in p) reportFailure(p);
          else if ('flag' in p) reportFlag(p);
          else if (flags.json) process.stdout.write(JSON.stringify(p) + '\n');
          else {
            const left = p.flaggedSegments.length > 0 ? `, ${p.flaggedSegments.length} without speech left out` : '';
            process.stdout.write(`${p.file}: ${p.label} over ${p.segments.length} window(s)${left}  (mean: ${ranked(p)})\n`);
            const lines = [
              ...p.segments.map((s) => ({ startS: s.startS, text: `${s.label}  (${ranked(s)})`, endS: s.endS })),
              ...p.flaggedSegments.map((s) => ({
                startS: s.startS,
                text: `${s.flag}  (${s.speechS.toFixed(2)} s of speech)`,
                endS: s.endS,
              })),
            ].sort((a, b) => a.startS - b.startS);
            for (const s of lines) process.stdout.write(`  ${s.startS.toFixed(2)}-${s.endS.toFixed(2)} s: ${s.text}\n`);
          }
        }
      } else {
        // Many files on a terminal: a bar with the ETA on stderr while they are classified (the results follow).
        const progress = createCountProgress(process.stderr.isTTY && files.length >= MANY_FILES ? 'bar' : 'none', 'files');
        for (const p of await predictFiles(flags.model, files, { threads, jobs, enrol, onProgress: progress.update })) {
          if (!('error' in p)) warn(p);
          if ('error' in p) reportFailure(p);
          else if ('flag' in p) reportFlag(p);
          else if (flags.json) process.stdout.write(JSON.stringify(p) + '\n');
          else process.stdout.write(`${p.file}: ${p.label}  (${ranked(p)})\n`);
        }
      }
      if (failures.length > 0 || flagged > 0) {
        const noEmotion = flagged > 0 ? `, ${flagged} flagged without an emotion (no speech or too short)` : '';
        const failed = failures.length > 0 ? `, ${failures.length} could not be used` : '';
        process.stderr.write(
          `ser: ${files.length - failures.length - flagged} of ${files.length} file(s) classified${noEmotion}${failed}\n`,
        );
        if (failures.length === files.length || flags.strict) process.exitCode = 1;
      }
    });
}
