/**
 * Wall time per epoch and peak memory of `ser train` on a real corpus (issue 4's bench), with PyTorch training
 * ../shared/reference/cnn_tm.py on the same clips, split, front end and hyper-parameters in the same run
 * (bench/peers/torch_train.py; Debian's python3-torch, measurement only). `--recipe generalize` trains ours with
 * that recipe (whole-utterance inputs, on-the-fly augmentation, balanced sampling) against the same peer running the
 * paper's pipeline: the cost of augmentation against PyTorch's plain step (issue 9 asks for at most 2x).
 *
 *   npx tsx bench/train-epoch.ts [--data ../shared/data/ravdess] [--dataset ravdess] [--split random]
 *                                [--epochs 3] [--threads 2] [--recipe paper|generalize] [--ema-decay D] [--no-peer] [--json]
 *
 * Ours: trainRun() with the paper's configuration (BN re-estimation on, as by default) for --epochs epochs;
 * seconds per epoch from its history (training steps + BN re-estimation + train/validation evaluation), peak RSS
 * from process.resourceUsage(). The peer: the same number of epochs (training steps + validation evaluation).
 * `--ema-decay D` adds the weight average (`ser train --ema-decay`) to ours: its per-step update and evaluation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CorpusName } from '../src/data/corpus.js';
import { trainRun } from '../src/train/index.js';
import { RECIPES } from '../src/train/recipe.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/ravdess' },
    dataset: { type: 'string', default: 'ravdess' },
    split: { type: 'string', default: 'random' },
    epochs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    recipe: { type: 'string', default: 'paper' },
    'ema-decay': { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const epochs = Number(args.epochs);
const threads = Number(args.threads);
const recipe = RECIPES[args.recipe];
if (!recipe) throw new Error(`--recipe ${args.recipe}: not one of ${Object.keys(RECIPES).join(', ')}`);
const out = join(mkdtempSync(join(tmpdir(), 'ser-bench-train-')), 'run');
const started = performance.now();
const result = await trainRun({
  out,
  data: { dataset: args.dataset as CorpusName, path: resolve(args.data) },
  split: args.split,
  seed: 0,
  recipe,
  hyper: { epochs, patience: epochs + 1, ...(args['ema-decay'] !== undefined ? { emaDecay: Number(args['ema-decay']) } : {}) },
  threads,
  progress: 'none',
  log: () => {},
});
const wallS = (performance.now() - started) / 1000;
const oursEpochS = result.history.map((h) => h.seconds);
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

let peer: { epoch_seconds: number[] } | null = null;
if (!args['no-peer']) {
  const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
  const peerOut = join(out, 'torch.json');
  execFileSync(
    python,
    ['bench/peers/torch_train.py', out, resolve(args.data), '--threads', String(threads), '--max-epochs', String(epochs), '--out', peerOut],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const history = (JSON.parse(readFileSync(peerOut, 'utf8')) as { history: Array<{ seconds: number }> }).history;
  peer = { epoch_seconds: history.map((h, i) => h.seconds - (i > 0 ? history[i - 1]!.seconds : 0)) };
}

const summary = {
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  corpus: `${args.dataset} ${args.data}`,
  split: args.split,
  train_clips: result.config.split.train,
  threads,
  epochs,
  recipe: args.recipe,
  ema_decay: args['ema-decay'] === undefined ? null : Number(args['ema-decay']),
  ours_epoch_seconds: oursEpochS.map((s) => Number(s.toFixed(2))),
  ours_peak_rss_mb: peakRssMb,
  ours_wall_seconds_incl_features_and_test: Number(wallS.toFixed(1)),
  torch_epoch_seconds: peer?.epoch_seconds.map((s) => Number(s.toFixed(2))) ?? null,
};
if (args.json) console.log(JSON.stringify(summary));
else console.log(summary);
