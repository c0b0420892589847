/** `ser calibrate`: temperature scaling of a trained run, fitted on its validation part (src/infer/calibrate.ts). */
import type { Command } from 'commander';
import { defaultCacheDir } from '../data/feature-cache.js';
import { DEFAULT_THREADS } from '../runtime/index.js';
import { type CalibratedPart, calibrationJson } from '../eval/calibration.js';
import { calibrateRun } from '../infer/calibrate.js';
import { createCountProgress } from '../train/progress.js';
import { jobsOption, parseJobs, parseNumber } from './options.js';

export function register(program: Command): void {
  program
    .command('calibrate')
    .description(
      "fit a trained run's temperature on its validation part so its probabilities say how often it is right (each window's class stays; a recording's, the mean over its windows, rarely moves)",
    )
    .argument(
      '<run_dir>',
      'run directory made by ser train or ser ensemble (rewrites its model.onnx, config.json, metrics.json and report.html)',
    )
    .option(
      '--temperature <T>',
      'set this temperature instead of fitting one (e.g. one fitted on a twin of the run: a final fit with --validation-fraction 0 has no validation part)',
    )
    .option('--json', 'print one JSON object: run_dir, temperature, previous, and per part [untempered, calibrated] cross-entropy and ECE')
    .option('--cache <dir>', `feature cache folder (default: ${defaultCacheDir()})`)
    .option('--no-cache', 'do not read or write cached features')
    .option('--threads <n>', `ONNX Runtime threads (default ${DEFAULT_THREADS})`)
    .addOption(jobsOption('computing the features not in the cache'))
    .action(
      async (runDir: string, flags: { json?: boolean; temperature?: string; cache?: string | false; threads?: string; jobs?: string }) => {
        const result = await calibrateRun(runDir, {
          ...(flags.temperature !== undefined
            ? { temperature: parseNumber('--temperature', flags.temperature, { min: Number.MIN_VALUE }) }
            : {}),
          cacheDir: flags.cache === false ? null : flags.cache,
          threads: flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 }),
          jobs: parseJobs(flags.jobs),
          onProgress: createCountProgress('auto', 'features').update,
        });
        if (flags.json) {
          const record =
            result.test || result.validation
              ? calibrationJson(result.temperature, result.validation, result.test, result.fittedOn)
              : { temperature: result.temperature, fitted_on: result.fittedOn };
          process.stdout.write(
            JSON.stringify({ run_dir: result.runDir, ...record, previous: result.previous ?? null, missing: result.missing }) + '\n',
          );
          return;
        }
        const rows = [
          `| part | recordings | T | cross-entropy | ECE (15 bins) | mean confidence | accuracy |`,
          '| --- | --- | --- | --- | --- | --- | --- |',
        ];
        const add = (name: string, part: CalibratedPart): void => {
          for (const [t, report] of [
            [1, part.untempered],
            [result.temperature, part.calibrated],
          ] as const) {
            const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(100 * v).toFixed(1)}%`);
            rows.push(
              `| ${name} | ${part.recordings} | ${t.toFixed(4)} | ${report.crossEntropy?.toFixed(4) ?? '-'} | ` +
                `${report.calibration?.ece.toFixed(4) ?? '-'} | ${pct(report.calibration?.meanConfidence)} | ${pct(report.accuracy)} |`,
            );
          }
        };
        if (result.validation) add(result.fittedOn === 'validation' ? 'validation (fitted on)' : 'validation', result.validation);
        if (result.test) add('test', result.test);
        process.stdout.write(
          `${result.runDir}: temperature ${result.temperature}${result.fittedOn === 'given' ? ' (given)' : ''}` +
            (result.previous === undefined
              ? ''
              : ` (was ${result.previous}; ${result.fittedOn === 'given' ? 'replaced' : 'fitted again from the untempered model'})`) +
            '\n' +
            rows.join('\n') +
            '\n' +
            (result.missing > 0 ? `${result.missing} recordings of the split were not scored (not found or unusable)\n` : '') +
            'model.onnx and config.json now carry it; metrics.json and report.html score the test part at it\n',
        );
      },
    );
}
