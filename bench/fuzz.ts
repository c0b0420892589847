/**
 * `npm run bench:fuzz [-- --cases N --seed S]`: the seeded audio fuzzer (test/audio/fuzz-cases.ts) over N cases
 * (default 5,000): counts of each outcome (audio, flagged, coded error by code, crash, NaN, unbounded allocation),
 * the worst case's time and the process's peak RSS. Every 20th case goes through a file with a wrong extension and
 * loadAudio. Exits 1 when any case crashed, produced a NaN, or allocated out of proportion to its input.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAudio } from '../src/audio/index.js';
import { SerError } from '../src/errors.js';
import { LogMelFrontEnd } from '../src/features/front-end.js';
import { type CaseResult, loadSeeds, makeCase, runCase } from '../test/audio/fuzz-cases.js';

const { values } = parseArgs({ options: { cases: { type: 'string', default: '5000' }, seed: { type: 'string', default: '20261204' } } });
const cases = Number(values.cases);
const seed = Number(values.seed);
const seeds = loadSeeds();
const frontEnd = new LogMelFrontEnd();
const scratch = mkdtempSync(join(tmpdir(), 'ser-fuzz-'));
const WRONG_EXTENSIONS = ['.mp3', '.wav', '.flac', '.ogg', '.m4a', '.aiff'];

const counts = new Map<string, number>();
const bad: string[] = [];
let worst = { ms: 0, what: '' };
let peakRss = process.memoryUsage().rss;
const started = performance.now();
for (let index = 0; index < cases; index++) {
  const c = makeCase(seeds, seed, index);
  const what = `case ${index} (${c.mutation} of ${c.seedFile}, ${c.bytes.length} B)`;
  let result: CaseResult;
  if (index % 20 === 0) {
    // A wrong extension, through the file system: loadAudio decodes by content.
    const path = join(scratch, `case-${index}${WRONG_EXTENSIONS[index % WRONG_EXTENSIONS.length]}`);
    writeFileSync(path, c.bytes);
    const t = performance.now();
    try {
      await loadAudio(path);
      result = await runCase(c.bytes, path, frontEnd);
    } catch (error) {
      result = {
        outcome: error instanceof SerError ? 'error' : 'crash',
        detail: error instanceof SerError ? error.code : String(error),
        ms: performance.now() - t,
      };
    }
    rmSync(path);
  } else result = await runCase(c.bytes, `case-${index}`, frontEnd);
  const key =
    result.outcome === 'error' ? `error ${result.detail}` : result.outcome === 'flagged' ? `flagged ${result.detail}` : result.outcome;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  if (['crash', 'nan', 'unbounded'].includes(result.outcome)) bad.push(`${what}: ${result.outcome} ${result.detail}`);
  if (result.ms > worst.ms) worst = { ms: result.ms, what };
  if (index % 50 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
peakRss = Math.max(peakRss, process.memoryUsage().rss);
rmSync(scratch, { recursive: true, force: true });

const seconds = (performance.now() - started) / 1000;
console.log(`fuzz: ${cases} cases (seed ${seed}, ${seeds.size} seed files) in ${seconds.toFixed(1)} s`);
for (const [key, n] of [...counts].sort()) console.log(`  ${key.padEnd(18)} ${n}`);
console.log(
  `  crashes ${bad.filter((b) => b.includes(': crash')).length}, NaN outputs ${bad.filter((b) => b.includes(': nan')).length}, unbounded ${bad.filter((b) => b.includes(': unbounded')).length}`,
);
console.log(`  worst time ${worst.ms.toFixed(0)} ms (${worst.what}); peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`);
for (const line of bad.slice(0, 20)) console.log(`  ${line}`);
if (bad.length > 0) process.exitCode = 1;
