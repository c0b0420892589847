/**
 * `ser ensemble`: trained runs combined into one run folder whose model averages their class probabilities
 * (src/train/ensemble.ts); score it with `ser eval --model DIR`, use it with `ser predict --model DIR`.
 */
import type { Command } from 'commander';
import { formatBytes } from '../errors.js';
import { ensembleRuns } from '../train/ensemble.js';

export function register(program: Command): void {
  program
    .command('ensemble')
    .description('combine trained runs (same model size, input windows and classes) into one model that averages their probabilities')
    .argument('<run_dir...>', 'run folders made by ser train (at least 2)')
    .requiredOption('--out <dir>', 'the ensemble run folder to write (model.onnx, config.json, split.json, LICENSE)')
    .action((runDirs: string[], flags: { out: string }) => {
      const { config, modelBytes } = ensembleRuns(runDirs, flags.out);
      process.stdout.write(
        `${flags.out}: ${config.ensemble?.members.length} models, ${formatBytes(modelBytes)} model.onnx, classes ${config.labels.join(', ')}\n` +
          `score it with: ser eval --model ${flags.out}   (its test part: ser eval --model ${flags.out} --part test)\n`,
      );
    });
}
