/** `ser compare`: two models' predictions of the same recordings, paired (src/eval/predictions.ts). */
import type { Command } from 'commander';
import { pairedComparison, readPredictions } from '../eval/index.js';

export function register(program: Command): void {
  program
    .command('compare')
    .description(
      "compare two models on the same recordings, recording by recording: which each gets right that the other does not, and McNemar's exact p (is the difference more than chance?)",
    )
    .argument('<first>', "a run folder (its test part's predictions.csv) or a CSV file of ser eval --predictions")
    .argument('<second>', 'the same for the other model, over the same recordings')
    .option('--json', 'print one JSON object: recordings, both, only_first, only_second, neither, p, accuracy and uar of each')
    .action((first: string, second: string, flags: { json?: boolean }) => {
      const paired = pairedComparison(readPredictions(first), readPredictions(second), [first, second]);
      if (flags.json) {
        const { onlyFirst, onlySecond, ...rest } = paired;
        process.stdout.write(JSON.stringify({ first, second, ...rest, only_first: onlyFirst, only_second: onlySecond }) + '\n');
        return;
      }
      const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
      process.stdout.write(
        `${paired.recordings} recordings: ${first} ${pct(paired.accuracy[0])} right (UAR ${pct(paired.uar[0])}), ` +
          `${second} ${pct(paired.accuracy[1])} (UAR ${pct(paired.uar[1])})\n` +
          `right only with ${first}: ${paired.onlyFirst}; only with ${second}: ${paired.onlySecond}; ` +
          `both: ${paired.both}; neither: ${paired.neither}\n` +
          `McNemar exact two-sided p = ${paired.p.toPrecision(3)}` +
          (paired.p < 0.05 ? ' (the difference is unlikely to be chance)\n' : ' (not shown to differ)\n'),
      );
    });
}
