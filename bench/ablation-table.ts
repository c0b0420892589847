/**
 * The ablation table of RESULTS.md (issue 9) from finished runs: one Markdown row per run (test accuracy, UAR,
 * macro F1, epochs run / best, last training accuracy, best validation UAR, recall per class), then, for each recipe
 * run with more than one seed, the mean and the spread (min-max) over its seeds.
 *
 *   npx tsx bench/ablation-table.ts RUN_DIR...          (e.g. the folders bench/ablations.sh wrote)
 *
 * Runs are grouped by their config.json recipe (not by folder name), so a renamed run still lands in its group.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EvaluationReportJson } from '../src/eval/json.js';
import { readRunConfig } from '../src/train/run-dir.js';

interface RunRow {
  name: string;
  recipe: string;
  seed: number;
  metrics: EvaluationReportJson & { best_epoch?: number; epochs_run?: number };
  lastTrainAccuracy: number | undefined;
  bestValUar: number | undefined;
}

const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

function readRow(dir: string): RunRow | null {
  const metricsFile = join(dir, 'metrics.json');
  if (!existsSync(metricsFile)) {
    console.error(`${dir}: no metrics.json (not finished), left out`);
    return null;
  }
  const config = readRunConfig(dir);
  const history = readFileSync(join(dir, 'history.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { train_accuracy?: number | null; val_uar?: number | null });
  const valUars = history.map((h) => h.val_uar).filter((x): x is number => typeof x === 'number');
  return {
    name: basename(dir),
    recipe: JSON.stringify(config.recipe),
    seed: config.seed,
    metrics: JSON.parse(readFileSync(metricsFile, 'utf8')),
    lastTrainAccuracy: history.at(-1)?.train_accuracy ?? undefined,
    bestValUar: valUars.length > 0 ? Math.max(...valUars) : undefined,
  };
}

const rows = process.argv
  .slice(2)
  .map(readRow)
  .filter((row): row is RunRow => row !== null);
if (rows.length === 0) {
  console.error('usage: npx tsx bench/ablation-table.ts RUN_DIR... (finished runs)');
  process.exit(2);
}
const labels = rows[0]?.metrics.labels ?? [];
console.log(
  `| run | seed | epochs run / best | accuracy | UAR | macro F1 | last train acc | best val UAR | recall ${labels.join(' / ')} |`,
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const recalls = r.metrics.per_class.map((c) => Math.round(100 * c.recall)).join(' / ');
  console.log(
    `| \`${r.name}\` | ${r.seed} | ${r.metrics.epochs_run ?? '-'} / ${r.metrics.best_epoch ?? '-'} | ${pct(r.metrics.accuracy)} | ` +
      `${pct(r.metrics.uar)} | ${pct(r.metrics.macro_f1)} | ${pct(r.lastTrainAccuracy)} | ${pct(r.bestValUar)} | ${recalls}% |`,
  );
}
const groups = new Map<string, RunRow[]>();
for (const r of rows) groups.set(r.recipe, [...(groups.get(r.recipe) ?? []), r]);
const seeded = [...groups.values()].filter((group) => group.length > 1);
if (seeded.length > 0) {
  console.log('\n| recipe of | seeds | accuracy mean (min-max) | UAR mean (min-max) |');
  console.log('| --- | --- | --- | --- |');
  for (const group of seeded) {
    const summary = (pick: (r: RunRow) => number): string => {
      const xs = group.map(pick);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return `${pct(mean)} (${pct(Math.min(...xs))}-${pct(Math.max(...xs))})`;
    };
    const names = group.map((r) => `\`${r.name}\``).join(', ');
    console.log(
      `| ${names} | ${group.map((r) => r.seed).join(', ')} | ${summary((r) => r.metrics.accuracy)} | ${summary((r) => r.metrics.uar)} |`,
    );
  }
}
