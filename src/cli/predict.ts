/** `ser predict`: the emotion of each audio file, with class probabilities, from a run's model.onnx. */
import type { Command } from 'commander';
import { predictFiles } from '../train/inference.js';
import { parseNumber } from './options.js';

export function register(program: Command): void {
  program
    .command('predict')
    .description("classify audio files with a trained run's model.onnx")
    .requiredOption('--model <run_dir>', 'run directory made by ser train')
    .argument('<files...>', 'audio files (WAV, AIFF, FLAC, MP3, Ogg)')
    .option('--json', 'print one JSON object per file: {"file", "label", "probabilities": {label: p}}')
    .option('--threads <n>', 'ONNX Runtime threads (default 2)')
    .action(async (files: string[], flags: { model: string; json?: boolean; threads?: string }) => {
      const predictions = await predictFiles(flags.model, files, {
        threads: flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 }),
      });
      for (const p of predictions) {
        if (flags.json) {
          process.stdout.write(JSON.stringify(p) + '\n');
          continue;
        }
        const ranked = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
        process.stdout.write(
          `${p.file}: ${p.label}  (${ranked.map(([label, prob]) => `${label} ${(100 * prob).toFixed(1)}%`).join(', ')})\n`,
        );
      }
    });
}
