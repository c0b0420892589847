/** `ser train`: parses flags and calls trainRun (src/train/run.ts). Ctrl-C stops after the current step. */
import { type Command, Option } from 'commander';
import { SerError } from '../errors.js';
import { CORPUS_NAMES, type CorpusName } from '../data/corpus.js';
import { loadSplit } from '../data/splits.js';
import { EMBEDDED_DEFAULTS, type ModelSize } from '../train/presets.js';
import { type TrainRunOptions, type TrainRunResult, formatRunSummary, trainRun } from '../train/run.js';
import { BALANCES, type Balance, PAPER_RECIPE, type Recipe } from '../train/recipe.js';
import { readRunConfig } from '../train/run-dir.js';
import { defaultModelDir } from '../infer/inference.js';
import { defaultCacheDir } from '../data/feature-cache.js';
import { INPUT_NORMS, type InputNorm, PAPER_CNN_TM } from '../model/config.js';
import { DEFAULT_THREADS } from '../runtime/index.js';
import { DEFAULT_HYPERPARAMETERS, type Hyperparameters, MONITORS, type Monitor } from '../train/loop.js';
import { collect, corpusSources, jobsOption, parseJobs, parseNumber, resolveRecipe } from './options.js';

interface TrainFlags {
  data?: string[];
  dataset?: CorpusName;
  mixture?: string;
  split: string;
  testCorpus?: string;
  testSpeakers?: string;
  splitFile?: string;
  validationFraction?: string;
  recipe?: string;
  inputNorm?: InputNorm;
  crops?: string;
  balance?: Balance;
  balanceBy?: 'sampling' | 'loss';
  warmup?: string;
  lrDecay?: 'none' | 'cosine';
  monitor?: Monitor;
  emaDecay?: string;
  calibrate?: boolean;
  corpusAdversarial?: string;
  speakerAdversarial?: string;
  seed: string;
  splitSeed?: string;
  out?: string;
  epochs?: string;
  patience?: string;
  batchSize?: string;
  lr?: string;
  labels?: string;
  duration: string;
  size?: ModelSize;
  dropout?: string;
  /** A folder, or false for --no-cache. */
  cache?: string | false;
  threads?: string;
  jobs?: string;
  resume?: boolean;
  init?: string;
  /** false for --no-recalibrate-bn. */
  recalibrateBn: boolean;
  progress: 'auto' | 'bar' | 'lines' | 'none';
}

/** Flags that define a run: they come from config.json when resuming and may not be given again. */
const FIXED_ON_RESUME = [
  'data',
  'dataset',
  'mixture',
  'split',
  'testCorpus',
  'testSpeakers',
  'splitFile',
  'validationFraction',
  'recipe',
  'inputNorm',
  'crops',
  'balance',
  'balanceBy',
  'warmup',
  'lrDecay',
  'monitor',
  'emaDecay',
  'calibrate',
  'corpusAdversarial',
  'speakerAdversarial',
  'seed',
  'splitSeed',
  'patience',
  'batchSize',
  'lr',
  'labels',
  'duration',
  'size',
  'dropout',
  'recalibrateBn',
  'init',
] as const;

/** Flags that shape the model: with --init the initial model's settings are used, so they may not be given. */
const FIXED_BY_INIT = ['size', 'duration'] as const;

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train CNN-TM on a corpus and evaluate it on the held-out test part; without --data, on the small embedded corpus ' +
        `(small model, up to ${EMBEDDED_DEFAULTS.epochs} epochs: a few minutes on 2 cores)`,
    )
    .option(
      '--data <dir>',
      'corpus folder or manifest CSV with --dataset; or NAME=PATH, repeated for several corpora (e.g. --data ravdess=RAVDESS/ --data nemo=nEMO/); default: the embedded corpus',
      collect,
    )
    .addOption(
      new Option('--dataset <name>', 'corpus format of a single --data PATH (folders: one folder per class)').choices(CORPUS_NAMES),
    )
    .option('--mixture <file.json>', 'several corpora and their label mappings from a JSON file (see src/data/mixture.ts)')
    .addOption(
      new Option(
        '--split <protocol>',
        'random (stratified), speaker (speaker-disjoint) or corpus (leave-one-corpus-out, with --test-corpus)',
      )
        .choices(['random', 'speaker', 'corpus'])
        .default('random'),
    )
    .option('--test-corpus <name>', 'with --split corpus: the corpus held out as the test part (e.g. emovo)')
    .option(
      '--test-speakers <ids>',
      'with --split speaker: the speakers held out as the test part, comma-separated (e.g. ravdess/13,ravdess/14)',
    )
    .option(
      '--split-file <split.json>',
      "use a split given in advance (another run's split.json, or a published split in its format; every recording " +
        'of the corpora in one of its parts) instead of making one; not with --split, --test-corpus, --test-speakers, ' +
        '--split-seed or --validation-fraction',
    )
    .option(
      '--validation-fraction <f>',
      'share of the recordings outside the test part (whole speakers with --split speaker or corpus) held out for ' +
        'validation, which picks the kept epoch and stops training early (default 0.1); 0: none, a final fit on ' +
        'all of them that trains the whole --epochs budget and keeps the last epoch (its average with --ema-decay)',
    )
    .option('--recipe <name|file.json>', 'inputs, augmentation and balancing: paper (default), generalize, or a JSON file of overrides')
    .addOption(
      new Option('--input-norm <norm>', 'normalise each input in the model: none, clip or band (per mel band)').choices([...INPUT_NORMS]),
    )
    .option('--crops <n>', 'test-time crops averaged per recording (evaluation and prediction)')
    .addOption(new Option('--balance <groups>', 'give equal weight to classes, corpora or both').choices([...BALANCES]))
    .addOption(new Option('--balance-by <how>', 'balance by sampling or by loss weights').choices(['sampling', 'loss']))
    .option('--warmup <epochs>', 'epochs of linear learning-rate warm-up (default 0)')
    .addOption(new Option('--lr-decay <kind>', 'learning-rate decay over the epoch budget (default none)').choices(['none', 'cosine']))
    .addOption(
      new Option('--monitor <metric>', 'validation metric that picks the best epoch and stops training (default val_loss)').choices([
        ...MONITORS,
      ]),
    )
    .option(
      '--ema-decay <d>',
      'keep a moving average of the weights (decay d per step, e.g. 0.998) and evaluate and keep it instead (default off)',
    )
    .option(
      '--calibrate',
      'after training, fit a temperature on the validation part so the probabilities say how often the model is right (as ser calibrate)',
    )
    .option(
      '--corpus-adversarial <lambda>',
      'train a corpus classifier behind a gradient-reversal layer (strength ramped up to lambda, e.g. 1) so features ' +
        'stop telling the corpora apart; several corpora only (default off)',
    )
    .option(
      '--speaker-adversarial <lambda>',
      'the same with a classifier of the training speakers, so features stop telling the speakers apart (default off)',
    )
    .option('--seed <n>', 'seed of the split, initial weights, shuffling and dropout', '0')
    .option(
      '--split-seed <n>',
      'seed of the split alone (default: --seed): runs of different --seed with one --split-seed share their test part, e.g. to ensemble them',
    )
    .option('--out <run_dir>', 'run directory for checkpoints, metrics, report and model (default: runs/<date-time>)')
    .option('--epochs <n>', `epoch budget (default ${DEFAULT_HYPERPARAMETERS.epochs}; embedded corpus: ${EMBEDDED_DEFAULTS.epochs})`)
    .option(
      '--patience <n>',
      `early-stopping patience in epochs (default ${DEFAULT_HYPERPARAMETERS.patience}; embedded corpus: ${EMBEDDED_DEFAULTS.patience})`,
    )
    .option(
      '--batch-size <n>',
      `minibatch size (default ${DEFAULT_HYPERPARAMETERS.batchSize}; embedded corpus: ${EMBEDDED_DEFAULTS.batchSize})`,
    )
    .option(
      '--lr <rate>',
      `AdamW learning rate (default ${DEFAULT_HYPERPARAMETERS.lr}; embedded corpus: ${EMBEDDED_DEFAULTS.lr}, except with --init)`,
    )
    .option(
      '--labels <spec>',
      'classes to use, e.g. "angry,happy,sad", "six" (the six classes of the paper), "calm=neutral"; several corpora: "six" (default) or a list of class names',
    )
    .option('--duration <seconds>', 'clip length: longer clips are cropped, shorter zero-padded', '3')
    .addOption(
      new Option(
        '--size <size>',
        'model size: paper (128 mels, 6 layers) or small (64 mels, 2 layers); default paper, embedded: small',
      ).choices(['paper', 'small']),
    )
    .option(
      '--dropout <p>',
      `dropout of the CNN blocks and encoder layers (default ${PAPER_CNN_TM.dropout}, the paper's; embedded corpus: ${EMBEDDED_DEFAULTS.dropout})`,
    )
    .option('--cache <dir>', `feature cache folder (default: ${defaultCacheDir()})`)
    .option('--no-cache', 'do not read or write cached features')
    .option(
      '--no-recalibrate-bn',
      'keep the BatchNorm statistics of the training steps (collected with dropout on) instead of re-estimating them with dropout off after each epoch',
    )
    .option('--threads <n>', `ONNX Runtime threads (default ${DEFAULT_THREADS})`)
    .addOption(jobsOption('computing the features not in the cache'))
    .option(
      '--init <run_dir>',
      'fine-tune: start from the weights of a trained run ("default": the shipped model) instead of random ones; ' +
        'its model size, clip length and (without --recipe) recipe are used, classes it knows keep their output weights',
    )
    .option('--resume', 'continue the interrupted run in --out with its saved settings (--epochs may raise the budget)')
    .addOption(new Option('--progress <mode>', 'progress display on stderr').choices(['auto', 'bar', 'lines', 'none']).default('auto'))
    .action(async (flags: TrainFlags, command: Command) => {
      checkFlags(flags, command);
      const out = flags.out ?? `runs/${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
      // Ctrl-C: finish the current step, keep the last end-of-epoch checkpoint, exit with a resume hint.
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupt: stopping after the current step (Ctrl-C again to quit at once)\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        reportRun(await trainRun(trainRunOptions(flags, out, abort.signal)), out);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** The command-line spelling of a flag's option name (recalibrateBn -> --no-recalibrate-bn). */
function flagName(name: string): string {
  return (name === 'recalibrateBn' ? '--no-' : '--') + name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Refuses flag combinations that cannot work, before any data is read. */
function checkFlags(flags: TrainFlags, command: Command): void {
  if (flags.resume) {
    if (!flags.out) throw new SerError('EARG', 'train', '--resume needs --out RUN_DIR (the run to continue)');
    const given = FIXED_ON_RESUME.filter((name) => command.getOptionValueSource(name) === 'cli');
    if (given.length > 0) {
      const flagNames = given.map(flagName);
      throw new SerError('EARG', 'train', `--resume takes the run's settings from ${flags.out}/config.json; drop ${flagNames.join(', ')}`);
    }
  }
  if (flags.init !== undefined) {
    const given = FIXED_BY_INIT.filter((name) => command.getOptionValueSource(name) === 'cli');
    if (given.length > 0) {
      throw new SerError(
        'EARG',
        'train',
        `--init ${flags.init} takes the model size and clip length from that model; drop ${given.map((name) => `--${name}`).join(', ')}`,
      );
    }
  }
  if (flags.splitFile !== undefined) {
    const making = (['split', 'testCorpus', 'testSpeakers', 'splitSeed', 'validationFraction'] as const).filter(
      (name) => command.getOptionValueSource(name) === 'cli',
    );
    if (making.length > 0) {
      throw new SerError(
        'EARG',
        'train',
        `--split-file ${flags.splitFile} gives the split; ${making.map(flagName).join(', ')} would make one: drop them`,
      );
    }
  }
  if (flags.testCorpus !== undefined && flags.split !== 'corpus') throw new SerError('EARG', 'train', '--test-corpus needs --split corpus');
  if (flags.split === 'corpus' && flags.testCorpus === undefined && !flags.resume) {
    throw new SerError('EARG', 'train', '--split corpus needs --test-corpus NAME (the corpus to hold out)');
  }
  if (flags.testSpeakers !== undefined && flags.split !== 'speaker')
    throw new SerError('EARG', 'train', '--test-speakers needs --split speaker');
  const validating = (['patience', 'monitor', 'calibrate'] as const).filter((name) => command.getOptionValueSource(name) === 'cli');
  const noValidation =
    flags.validationFraction !== undefined && Number(flags.validationFraction) === 0
      ? '--validation-fraction 0 leaves none'
      : flags.splitFile !== undefined && validating.length > 0 && loadSplit(flags.splitFile).parts.validation.length === 0
        ? `${flags.splitFile} has none`
        : undefined;
  if (noValidation !== undefined && validating.length > 0) {
    throw new SerError(
      'EARG',
      'train',
      `${validating.map((name) => `--${name}`).join(', ')} work on the validation part, and ${noValidation} ` +
        '(the last epoch is kept; a temperature can be given later with ser calibrate --temperature T): drop them',
    );
  }
}

/** The flags as trainRun's options (numbers parsed and bounded; EARG naming the flag otherwise). */
function trainRunOptions(flags: TrainFlags, out: string, signal: AbortSignal): TrainRunOptions {
  const sources = corpusSources(flags.data ?? [], flags.dataset, flags.mixture, 'train');
  if (sources === undefined && flags.dataset !== undefined && !flags.resume) {
    throw new SerError('EARG', 'train', `--dataset ${flags.dataset} needs --data DIR (the corpus folder or manifest)`);
  }
  const number = (flag: string, text: string | undefined, bounds: { integer?: boolean; min?: number }) =>
    text === undefined ? undefined : parseNumber(flag, text, bounds);
  const init = flags.init === 'default' ? defaultModelDir() : flags.init;
  const recipe = resolveRecipe(
    flags.recipe,
    {
      inputNorm: flags.inputNorm,
      crops: number('--crops', flags.crops, { integer: true, min: 1 }),
      balance: flags.balance,
      balanceBy: flags.balanceBy,
    },
    init !== undefined ? readInitialRecipe(init) : undefined,
  );
  return {
    out,
    data:
      sources?.sources.length === 1
        ? { ...(sources.sources[0] as (typeof sources.sources)[number]), ...(flags.labels ? { labels: flags.labels } : {}) }
        : sources?.sources,
    labels: sources && sources.sources.length > 1 ? (flags.labels ?? sources.labels) : undefined,
    split: flags.split,
    ...(flags.splitFile !== undefined ? { splitFile: flags.splitFile } : {}),
    heldOut:
      flags.testCorpus !== undefined
        ? { corpus: flags.testCorpus }
        : flags.testSpeakers !== undefined
          ? {
              speakers: flags.testSpeakers
                .split(',')
                .map((id) => id.trim())
                .filter((id) => id !== ''),
            }
          : undefined,
    recipe,
    seed: parseNumber('--seed', flags.seed, { integer: true }),
    splitSeed: number('--split-seed', flags.splitSeed, { integer: true }),
    validationFraction: fraction('--validation-fraction', flags.validationFraction, {
      zero: true,
      range: 'from 0 (no validation part) to below 1, e.g. 0.1',
    }),
    hyper: {
      epochs: number('--epochs', flags.epochs, { integer: true, min: 1 }),
      patience: number('--patience', flags.patience, { integer: true, min: 1 }),
      batchSize: number('--batch-size', flags.batchSize, { integer: true, min: 2 }),
      lr: number('--lr', flags.lr, { min: Number.MIN_VALUE }),
      recalibrateBn: flags.recalibrateBn,
      warmupEpochs: number('--warmup', flags.warmup, { min: 0 }),
      lrDecay: flags.lrDecay,
      monitor: flags.monitor,
      emaDecay: fraction('--ema-decay', flags.emaDecay, { zero: false, range: 'between 0 and 1, e.g. 0.998' }),
      calibrate: flags.calibrate,
      ...adversarialHead(flags),
    },
    size: flags.size,
    dropout: number('--dropout', flags.dropout, { min: 0 }),
    durationS: parseNumber('--duration', flags.duration, { min: 0.1 }),
    cacheDir: flags.cache === false ? null : flags.cache,
    threads: number('--threads', flags.threads, { integer: true, min: 1 }),
    jobs: parseJobs(flags.jobs),
    resume: flags.resume,
    ...(init !== undefined ? { init } : {}),
    signal,
    progress: flags.progress,
  };
}

/** The recipe a fine-tuning run starts from: its initial model's (the paper's for runs made before recipes). */
function readInitialRecipe(runDir: string): Recipe {
  return readRunConfig(runDir).recipe ?? PAPER_RECIPE;
}

/** The test table and what to do next; on Ctrl-C, where the run stands and how to resume it (exit code 130). */
function reportRun(result: TrainRunResult, out: string): void {
  if (result.finished === 'interrupted') {
    const last = result.history.at(-1)?.epoch ?? 0;
    // Without a completed epoch there is no checkpoint; --resume then starts over with the saved settings.
    const saved = last === 0 ? `no epoch completed in ${result.runDir}` : `the checkpoint in ${result.runDir} holds epoch ${last}`;
    process.stderr.write(`interrupted: ${saved}; continue with: npx ser train --out ${out} --resume\n`);
    process.exitCode = 130;
    return;
  }
  process.stdout.write(formatRunSummary(result, process.stdout.isTTY === true) + '\n');
  process.stdout.write(
    `run directory: ${result.runDir} (metrics.json, report.html, predictions.csv, model.onnx)\n` +
      (result.config.recipe?.speakerNorm
        ? `classify a speaker's recordings with: npx ser predict --model ${out} --enrol RECORDINGS_OF_THE_SPEAKER FILE.wav ...\n`
        : `classify recordings with: npx ser predict --model ${out} FILE.wav ...\n`),
  );
}

/** A flag that is a number below 1 and above 0 (or from 0, with `zero`); `range` says so in the error. */
function fraction(flag: string, text: string | undefined, bounds: { zero: boolean; range: string }): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !((bounds.zero ? value >= 0 : value > 0) && value < 1))
    throw new SerError('EARG', 'cli', `${flag} must be a number ${bounds.range} ('${text}' given)`);
  return value;
}

/** The adversarial head's hyperparameters: --corpus-adversarial or --speaker-adversarial (one head a run). */
function adversarialHead(flags: TrainFlags): Pick<Hyperparameters, 'corpusAdversarial' | 'adversary'> {
  if (flags.corpusAdversarial !== undefined && flags.speakerAdversarial !== undefined) {
    throw new SerError('EARG', 'cli', 'give --corpus-adversarial or --speaker-adversarial, not both (a run trains one adversarial head)');
  }
  if (flags.speakerAdversarial !== undefined) {
    return {
      corpusAdversarial: parseNumber('--speaker-adversarial', flags.speakerAdversarial, { min: Number.MIN_VALUE }),
      adversary: 'speaker',
    };
  }
  return flags.corpusAdversarial === undefined
    ? {}
    : { corpusAdversarial: parseNumber('--corpus-adversarial', flags.corpusAdversarial, { min: Number.MIN_VALUE }) };
}
