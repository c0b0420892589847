/** `ser eval`: scores a trained run on a labelled corpus (src/infer/inference.ts evaluateRun). */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { CORPUS_NAMES, type CorpusName } from '../data/corpus.js';
import { defaultCacheDir } from '../data/feature-cache.js';
import { SerError } from '../errors.js';
import { formatReport, predictionsCsv, toJson } from '../eval/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { DEFAULT_THREADS } from '../runtime/index.js';
import { evaluateRun } from '../infer/inference.js';
import { createCountProgress } from '../train/progress.js';
import { jobsOption, parseJobs, parseNumber } from './options.js';

interface EvalFlags {
  model?: string;
  data?: string;
  dataset?: CorpusName;
  labels?: string;
  part: 'auto' | 'all' | 'test';
  json?: boolean;
  cache?: string | false;
  threads?: string;
  jobs?: string;
  predictions?: string;
  enrol?: 'scored' | 'train';
}

export function register(program: Command): void {
  program
    .command('eval')
    .description(
      "evaluate a trained run's model.onnx (default: the shipped model) on a corpus; its classes are matched to the model's by name or alias",
    )
    .option('--model <run_dir>', 'run directory made by ser train (default: the shipped model, see assets/models/default/MODEL_CARD.md)')
    .option(
      '--data <dir|manifest.csv>',
      "corpus folder, or manifest CSV for --dataset csv (default: the run's own corpora, from its config.json)",
    )
    .addOption(
      new Option('--dataset <name>', 'corpus format (folders: one folder per class; default csv for a .csv path)').choices(CORPUS_NAMES),
    )
    .option('--labels <spec>', 'corpus classes to score, e.g. "neutral,happy,sad,angry,fearful,disgust" (default: all)')
    .addOption(
      new Option(
        '--part <part>',
        "clips to score: test = the run's test part, all = every clip; auto = test on the training corpus, else all",
      )
        .choices(['auto', 'all', 'test'])
        .default('auto'),
    )
    .option('--json', 'print one JSON object (accuracy, macro_f1, uar, labels, confusion with rows = true class, ...)')
    .option('--predictions <file.csv>', "also write each recording's true class, prediction and probabilities to this CSV file")
    .addOption(
      new Option(
        '--enrol <source>',
        "for a model trained with speaker normalisation, each speaker's statistics from: train = their recordings in the run's training part, scored = the recordings scored",
      ).choices(['scored', 'train']),
    )
    .option('--cache <dir>', `feature cache folder (default: ${defaultCacheDir()})`)
    .option('--no-cache', 'do not read or write cached features')
    .option('--threads <n>', `ONNX Runtime threads (default ${DEFAULT_THREADS})`)
    .addOption(jobsOption('computing the features not in the cache'))
    .action(async (flags: EvalFlags) => {
      const data =
        flags.data === undefined ? undefined : { dataset: datasetOf(flags.data, flags.dataset), path: flags.data, labels: flags.labels };
      if (data === undefined && flags.model === undefined) {
        throw new SerError('EARG', 'eval', 'say what to score: --data CORPUS, or --model RUN_DIR (which scores its own test part)');
      }
      if (flags.predictions !== undefined && !existsSync(dirname(resolve(flags.predictions)))) {
        throw new SerError(
          'EARG',
          'eval',
          `--predictions ${flags.predictions}: no folder ${dirname(resolve(flags.predictions))} to write it in`,
        );
      }
      const result = await evaluateRun(flags.model, {
        data,
        part: flags.part,
        enrol: flags.enrol,
        cacheDir: flags.cache === false ? null : flags.cache,
        threads: flags.threads === undefined ? undefined : parseNumber('--threads', flags.threads, { integer: true, min: 1 }),
        jobs: parseJobs(flags.jobs),
        // A bar on a terminal only: piped stderr keeps just the skipped files and warnings.
        onProgress: createCountProgress(process.stderr.isTTY ? 'bar' : 'none', 'features').update,
      });
      for (const failure of result.failed) process.stderr.write(`skipped ${failure.path}: ${failure.error}\n`);
      for (const warning of result.warnings) process.stderr.write(`ser: warning: ${warning}\n`);
      const unmapped = Object.entries(result.unmapped);
      if (unmapped.length > 0) {
        process.stderr.write(
          `left out: ${unmapped.map(([label, count]) => `${count} '${label}'`).join(', ')} (no such class in the model: ${result.config.labels.join(', ')})\n`,
        );
      }
      const renamed = Object.entries(result.mapping).filter(([from, to]) => from !== to);
      if (flags.predictions !== undefined) {
        const { recordings, truth, probabilities } = result.scored;
        writeFileAtomic(resolve(flags.predictions), predictionsCsv(recordings, truth, probabilities, result.config.labels));
      }
      if (flags.json) {
        const json = {
          ...toJson(result.report),
          part: result.part,
          dataset: data?.dataset ?? result.config.data.dataset,
          data_path: data?.path ?? null,
          model: flags.model ?? 'default',
          trained_on: { dataset: result.config.data.dataset, protocol: result.config.split.protocol, seed: result.config.seed },
          // The model's temperature (ser calibrate, ser train --calibrate); null: its probabilities are untempered.
          temperature: result.config.model.temperature ?? null,
          label_mapping: result.mapping,
          ...(flags.enrol ? { enrol: flags.enrol } : {}),
          skipped: result.failed.length,
          unmapped: result.unmapped,
        };
        process.stdout.write(JSON.stringify(json) + '\n');
        return;
      }
      const what =
        result.part === 'test'
          ? `the run's test part (${result.config.split.protocol} split)`
          : `all clips of ${flags.data ?? "the run's corpora"}`;
      process.stdout.write(
        formatReport(result.report, {
          color: process.stdout.isTTY === true,
          title:
            `Evaluation on ${what}: ${result.report.samples} clips` +
            (flags.enrol === undefined
              ? ''
              : flags.enrol === 'train'
                ? "; each speaker's statistics from their recordings in the training part"
                : "; each speaker's statistics from their recordings scored") +
            (result.config.model.temperature === undefined ? '' : ` (probabilities at temperature ${result.config.model.temperature})`),
        }) + '\n',
      );
      if (renamed.length > 0) process.stdout.write(`labels mapped: ${renamed.map(([from, to]) => `${from} -> ${to}`).join(', ')}\n`);
    });
}

/** The corpus kind of `--data path`: --dataset, or csv for a .csv path. */
function datasetOf(path: string, dataset: CorpusName | undefined): CorpusName {
  if (dataset !== undefined) return dataset;
  if (!/\.csv$/i.test(path))
    throw new SerError('EARG', 'eval', `--data ${path}: say which corpus it is with --dataset ${CORPUS_NAMES.join('|')}`);
  return 'csv';
}
