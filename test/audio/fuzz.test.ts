/**
 * A fixed sample of the audio fuzzer (test/audio/fuzz-cases.ts; bench/fuzz.ts runs >= 5,000): 400 seeded
 * mutations of real files of every format we read each end in audio, a flagged result or a coded SerError; none
 * crashes, yields a NaN or allocates out of proportion. Plus the cases the fuzzer found.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAudio, fromDecoded } from '../../src/audio/index.js';
import { LogMelFrontEnd } from '../../src/features/front-end.js';
import { type CaseResult, MUTATIONS, SEED_FILES, loadSeeds, makeCase, runCase } from './fuzz-cases.js';

const SEED = 12;
const CASES = 400;

describe('audio fuzzer, a fixed sample', () => {
  it(`${CASES} cases (seed ${SEED}): audio, flagged or a coded error, every one; no crash, NaN or unbounded allocation`, async () => {
    const seeds = loadSeeds();
    const frontEnd = new LogMelFrontEnd();
    const outcomes = new Map<string, number>();
    const mutations = new Set<string>();
    const files = new Set<string>();
    const bad: string[] = [];
    let worst = 0;
    for (let index = 0; index < CASES; index++) {
      const c = makeCase(seeds, SEED, index);
      mutations.add(c.mutation);
      files.add(c.seedFile);
      const result: CaseResult = await runCase(c.bytes, `case-${index}`, frontEnd);
      outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
      worst = Math.max(worst, result.ms);
      if (!['audio', 'flagged', 'error'].includes(result.outcome))
        bad.push(`case ${index} (${c.mutation} of ${c.seedFile}): ${result.outcome} ${result.detail}`);
      if (result.outcome === 'error') assert.ok(['EDECODE', 'EAUDIO'].includes(result.detail), `case ${index}: code ${result.detail}`);
    }
    assert.deepEqual(bad, []);
    // The sample exercises every mutation and seed file, and each kind of ending.
    assert.deepEqual([...mutations].sort(), [...MUTATIONS].sort());
    assert.equal(files.size, SEED_FILES.length);
    for (const outcome of ['audio', 'flagged', 'error'])
      assert.ok((outcomes.get(outcome) ?? 0) > 10, `${outcome}: ${outcomes.get(outcome)}`);
    assert.ok(worst < 5000, `worst case ${worst.toFixed(0)} ms`);
  });

  it('found by the fuzzer: a CAF whose float64 rate is 16000.0000001 decodes at 16000 Hz (it was EARG from resample)', async () => {
    const caf = loadSeeds().get('speech-16k.caf') as Uint8Array;
    const bytes = caf.slice();
    // The 'desc' chunk follows the 8-byte file header and its 12-byte chunk header: the rate is its first float64.
    const view = new DataView(bytes.buffer);
    assert.equal(view.getFloat64(20, false), 16000);
    view.setFloat64(20, 16000.000000119207, false);
    const decoded = await decodeAudio(bytes, 'odd-rate.caf');
    assert.equal(decoded.sampleRateHz, 16000);
    assert.equal(fromDecoded(decoded, 'odd-rate.caf').samples.length, 8000);
  });
});
