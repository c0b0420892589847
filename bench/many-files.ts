/**
 * The shipped default model on a few thousand files through the two paths users score it with (issue 9):
 * `ser predict --json FILE...` and `ser eval --data MANIFEST.csv --dataset csv --json`, both without --model.
 *
 *   npm run bench:many-files [-- --corpus nemo] [--limit 4481] [--threads 2] [--json] [--cli path/to/dist/cli/main.js]
 *
 * The files are a corpus of ../shared/data (default nEMO: 4,481 Opus clips), in the corpus reader's order, cut to
 * --limit. predict gets every file on one command line (as a shell glob gives them); eval gets a manifest
 * (path,label,speaker; the corpus's classes mapped to the default model's six, others left out) written to a temp
 * folder; eval runs with --no-cache (a first use). Each runs as a child under /usr/bin/time -v: wall time, files per second, peak RSS. The default model
 * was trained on part of these corpora, so the accuracies in the --json output are a check that the answers are sane, not a
 * measure of generalization (RESULTS.md has those).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CORPUS_NAMES, type CorpusName, loadCorpus } from '../src/data/corpus.js';
import { packageRoot } from '../src/io/paths.js';
import { timeCli } from './time-cli.js';

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: 'nemo' },
    limit: { type: 'string', default: '100000' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    cli: { type: 'string' },
  },
});
const root = packageRoot();
const cli = args.cli ?? join(root, 'dist', 'cli', 'main.js');
const corpusName = args.corpus as CorpusName;
const folder = join(root, '..', 'shared', 'data', corpusName);
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
if (!(CORPUS_NAMES as readonly string[]).includes(corpusName)) throw new Error(`--corpus: one of ${CORPUS_NAMES.join(', ')}`);
if (!existsSync(folder)) throw new Error(`${folder} is missing: the benchmark reads the corpora of ../shared`);

const corpus = loadCorpus({ dataset: corpusName, path: folder, labels: 'six' });
const utterances = corpus.utterances.slice(0, Number(args.limit));
const files = utterances.map((u) => u.path);
const scratch = mkdtempSync(join(tmpdir(), 'ser-many-files-'));
try {
  const manifest = join(scratch, 'manifest.csv');
  writeFileSync(manifest, ['path,label,speaker', ...utterances.map((u) => `${u.path},${u.label},${u.speaker}`)].join('\n'));
  const loadBefore = loadavg()[0] as number;
  const predict = await timeCli(cli, ['predict', '--json', '--threads', args.threads, ...files]);
  const lines = predict.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { file: string; label?: string; error?: string; flag?: string });
  const labelled = lines.filter((line) => line.label !== undefined).length;
  const correct = lines.filter((line, i) => line.label === utterances[i]?.label).length;
  const evaluation = await timeCli(cli, [
    'eval',
    '--data',
    manifest,
    '--dataset',
    'csv',
    '--json',
    '--no-cache',
    '--threads',
    args.threads,
  ]);
  const metrics = JSON.parse(evaluation.stdout) as { samples: number; accuracy: number; uar: number };
  const loadAfter = loadavg()[0] as number;
  const result = {
    corpus: corpusName,
    files: files.length,
    commandLineKb: Math.round(files.join(' ').length / 1024),
    predict: {
      wallS: predict.wallS,
      filesPerS: files.length / predict.wallS,
      peakRssMb: predict.peakRssMb,
      lines: lines.length,
      labelled,
      accuracy: correct / files.length,
    },
    eval: {
      wallS: evaluation.wallS,
      filesPerS: metrics.samples / evaluation.wallS,
      peakRssMb: evaluation.peakRssMb,
      samples: metrics.samples,
      accuracy: metrics.accuracy,
      uar: metrics.uar,
    },
    threads: Number(args.threads),
    load: [loadBefore, loadAfter],
  };
  if (args.json) console.log(JSON.stringify(result));
  else {
    const p = result.predict;
    const e = result.eval;
    console.log(`${corpusName}: ${files.length} files (${result.commandLineKb} KB of arguments), ${args.threads} thread(s)`);
    console.log(
      `ser predict --json: ${p.wallS.toFixed(1)} s, ${p.filesPerS.toFixed(1)} files/s, peak RSS ${p.peakRssMb.toFixed(0)} MB; ${p.lines} lines, ${p.labelled} labelled`,
    );
    console.log(
      `ser eval --dataset csv --json: ${e.wallS.toFixed(1)} s, ${e.filesPerS.toFixed(1)} files/s, peak RSS ${e.peakRssMb.toFixed(0)} MB; ${e.samples} scored`,
    );
    console.log(`load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
