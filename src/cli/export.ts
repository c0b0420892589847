/**
 * `ser export`: a run's model (default: the shipped one) as one ONNX file; with --end-to-end the waveform goes in
 * (src/export/end-to-end.ts), so other ONNX runtimes need none of our code.
 */
import type { Command } from 'commander';
import { formatBytes } from '../errors.js';
import { END_TO_END_IO, exportModel } from '../export/index.js';

export function register(program: Command): void {
  program
    .command('export')
    .description("write a run's model as a standalone ONNX file (--end-to-end: 16 kHz waveform in, probabilities and logits out)")
    .option('--model <run_dir>', 'run directory made by ser train (default: the shipped model)')
    .requiredOption('--out <file.onnx>', 'where to write the ONNX model')
    .option('--end-to-end', `input '${END_TO_END_IO.input}' [batch, samples] (mono, the run's sample rate) instead of log-mel windows`)
    .action((flags: { model?: string; out: string; endToEnd?: boolean }) => {
      const bytes = exportModel(flags.model, flags.out, { endToEnd: flags.endToEnd });
      const io = flags.endToEnd
        ? `input ${END_TO_END_IO.input} [batch, samples] float32 -> ${END_TO_END_IO.probabilities}, ${END_TO_END_IO.logits} [batch, classes]`
        : 'input mel [batch, 1, nMels, frames] float32 -> probabilities, logits [batch, classes]';
      process.stdout.write(`${flags.out}: ${formatBytes(bytes)}, ${io}\n`);
    });
}
