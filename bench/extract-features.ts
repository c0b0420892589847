/**
 * Wall time of feature extraction (decode + 16 kHz + 3 s log-mel) for a corpus, cold cache then warm cache.
 *   npx tsx bench/extract-features.ts [DIR=../shared/data/ravdess] [DATASET=ravdess]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CorpusName, extractFeatures, loadCorpus, summarizeFailures } from '../src/data/index.js';

const dir = process.argv[2] ?? '../shared/data/ravdess';
const dataset = (process.argv[3] ?? 'ravdess') as CorpusName;
const corpus = loadCorpus({ dataset, path: dir });
const cacheDir = mkdtempSync(join(tmpdir(), 'ser-bench-cache-'));
try {
  console.log(
    `${corpus.utterances.length} ${dataset} clips from ${dir}; ${cpus().length} CPUs, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const run of ['cold cache', 'warm cache']) {
    const start = performance.now();
    const result = await extractFeatures(corpus.utterances, { cacheDir });
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `${run}: ${seconds.toFixed(2)} s (${((1000 * seconds) / corpus.utterances.length).toFixed(1)} ms/clip), computed ${result.computed}, from cache ${result.cacheHits}; ${summarizeFailures(result)}`,
    );
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
