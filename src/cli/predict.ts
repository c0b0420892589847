/**
 * `ser predict`: the emotion of each audio file, with class probabilities, from a run's model.onnx; with
 * --segments, of each window of the run's clip length along the file (long recordings).
 */
import type { Command } from 'commander';
import type { LabelledPrediction } from '../train/model-use.js';
import { predictFiles, predictSegments } from '../train/inference.js';
import { SerError } from '../errors.js';
import { parseNumber } from './options.js';

export function register(program: Command): void {
  program
    .command('predict')
    .description("classify audio files with a trained run's model.onnx")
    .requiredOption('--model <run_dir>', 'run directory made by ser train')
    .argument('<files...>', 'audio files (WAV, AIFF, FLAC, MP3, Ogg)')
    .option('--json', 'print one JSON object per file: {"file", "label", "probabilities": {label: p}}')
    .option('--threads <n>', 'ONNX Runtime threads (default 2)')
    .option('--segments', "classify the whole file in windows of the run's clip length (default: its first clip length only, as in training)")
    .option('--hop <seconds>', 'with --segments: seconds between window starts (default: the clip length, no overlap)')
    .action(async (files: string[], flags: { model: string; json?: boolean; threads?: string; segments?: boolean; hop?: string }) => {
      const threads = flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 });
      if (flags.hop !== undefined && !flags.segments) throw new SerError('EARG', 'predict', '--hop needs --segments');
      const ranked = (p: LabelledPrediction) =>
        Object.entries(p.probabilities)
          .sort((a, b) => b[1] - a[1])
          .map(([label, prob]) => `${label} ${(100 * prob).toFixed(1)}%`)
          .join(', ');
      if (flags.segments) {
        const hopS = flags.hop === undefined ? undefined : parseNumber('--hop', flags.hop, { min: 0.01 });
        for (const p of await predictSegments(flags.model, files, { hopS, threads })) {
          if (flags.json) {
            process.stdout.write(JSON.stringify(p) + '\n');
            continue;
          }
          process.stdout.write(`${p.file}: ${p.label} over ${p.segments.length} window(s)  (mean: ${ranked(p)})\n`);
          for (const s of p.segments) process.stdout.write(`  ${s.startS.toFixed(2)}-${s.endS.toFixed(2)} s: ${s.label}  (${ranked(s)})\n`);
        }
        return;
      }
      for (const p of await predictFiles(flags.model, files, { threads })) {
        if (flags.json) {
          process.stdout.write(JSON.stringify(p) + '\n');
          continue;
        }
        process.stdout.write(`${p.file}: ${p.label}  (${ranked(p)})\n`);
      }
    });
}
