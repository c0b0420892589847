/**
 * `ser predict`: the emotion of each audio file, with class probabilities, from a run's model.onnx (default: the
 * model shipped in the package); with --segments, of each window of the run's clip length along the file (long
 * recordings). Files that cannot be used get an error line (or a JSON object with `error` and `code`) and the
 * others go on; the exit code is 1 only when no file could be used (or any could not, with --strict).
 */
import type { Command } from 'commander';
import { SerError } from '../errors.js';
import { DEFAULT_THREADS } from '../runtime/index.js';
import type { LabelledPrediction } from '../infer/model-use.js';
import { type FailedPrediction, predictFiles, predictSegments } from '../infer/inference.js';
import { parseNumber } from './options.js';

interface PredictFlags {
  model?: string;
  json?: boolean;
  threads?: string;
  segments?: boolean;
  hop?: string;
  strict?: boolean;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description("classify audio files with a trained run's model.onnx, or the model shipped with speech-emotion")
    .option('--model <run_dir>', 'run directory made by ser train (default: the shipped model, see assets/models/default/MODEL_CARD.md)')
    .argument('<files...>', 'audio files (WAV, AIFF, FLAC, MP3, Ogg Vorbis, Opus)')
    .option('--json', 'print one JSON object per file: {"file", "label", "probabilities": {label: p}} or {"file", "error", "code"}')
    .option('--threads <n>', `ONNX Runtime threads (default ${DEFAULT_THREADS})`)
    .option('--segments', "classify the whole file in windows of the run's clip length")
    .option('--hop <seconds>', 'with --segments: seconds between window starts (default: the clip length, no overlap)')
    .option('--strict', 'exit with code 1 when any file cannot be used (default: only when none can)')
    .action(async (files: string[], flags: PredictFlags) => {
      const threads = flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 });
      if (flags.hop !== undefined && !flags.segments) throw new SerError('EARG', 'predict', '--hop needs --segments');
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
      if (flags.segments) {
        const hopS = flags.hop === undefined ? undefined : parseNumber('--hop', flags.hop, { min: 0.01 });
        for (const p of await predictSegments(flags.model, files, { hopS, threads })) {
          if ('error' in p) reportFailure(p);
          else if (flags.json) process.stdout.write(JSON.stringify(p) + '\n');
          else {
            process.stdout.write(`${p.file}: ${p.label} over ${p.segments.length} window(s)  (mean: ${ranked(p)})\n`);
            for (const s of p.segments) process.stdout.write(`  ${s.startS.toFixed(2)}-${s.endS.toFixed(2)} s: ${s.label}  (${ranked(s)})\n`);
          }
        }
      } else {
        for (const p of await predictFiles(flags.model, files, { threads })) {
          if ('error' in p) reportFailure(p);
          else if (flags.json) process.stdout.write(JSON.stringify(p) + '\n');
          else process.stdout.write(`${p.file}: ${p.label}  (${ranked(p)})\n`);
        }
      }
      if (failures.length > 0) {
        process.stderr.write(`ser: ${files.length - failures.length} of ${files.length} file(s) classified, ${failures.length} could not be used\n`);
        if (failures.length === files.length || flags.strict) process.exitCode = 1;
      }
    });
}
