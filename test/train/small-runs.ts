/**
 * Small runs trained here for the tests of what uses a finished run (ser ensemble, ser calibrate): a RAVDESS folder
 * of actors 01-05 from ../shared (neutral, happy, sad, angry, both statements: 40 recordings) and one-epoch small
 * models on it (1 s clips, a speaker split with actor 05 as the fixed test speaker by default).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Recipe } from '../../src/train/recipe.js';
import { trainRun } from '../../src/train/run.js';
import { hasShared, sharedDir } from '../helpers.js';

/** Copies the 40 recordings into `scratch`/ravdess and returns that folder. */
export function miniRavdess(scratch: string): string {
  const dir = join(scratch, 'ravdess');
  for (const actor of ['01', '02', '03', '04', '05']) {
    mkdirSync(join(dir, `Actor_${actor}`), { recursive: true });
    for (const emotion of ['01', '03', '04', '05']) {
      for (const statement of ['01', '02']) {
        const name = `03-01-${emotion}-01-${statement}-01-${actor}.wav`;
        copyFileSync(join(sharedDir, 'data', 'ravdess', `Actor_${actor}`, name), join(dir, `Actor_${actor}`, name));
      }
    }
  }
  return dir;
}

/**
 * A small one-epoch run on `scratch`/ravdess (miniRavdess first) into `scratch`/`name`; `test`: the held-out speaker;
 * `random`: a random stratified split instead (every speaker in both parts); `recipe`: default the paper's.
 */
export async function smallRun(
  scratch: string,
  name: string,
  seed: number,
  options: { test?: string; durationS?: number; calibrate?: boolean; random?: boolean; recipe?: Recipe } = {},
): Promise<string> {
  const out = join(scratch, name);
  await trainRun({
    out,
    data: { dataset: 'ravdess', path: join(scratch, 'ravdess') },
    ...(options.random ? { split: 'random' } : { split: 'speaker', heldOut: { speakers: [options.test ?? '05'] } }),
    ...(options.recipe ? { recipe: options.recipe } : {}),
    seed,
    size: 'small',
    durationS: options.durationS ?? 1,
    hyper: { epochs: 1, batchSize: 4, ...(options.calibrate ? { calibrate: true } : {}) },
    cacheDir: null,
    threads: 1,
    jobs: 0,
    progress: 'none',
    log: () => {},
  });
  return out;
}

/**
 * A scratch folder (removed after the test file) holding miniRavdess and two small runs, `a` (seed 1) and `b`
 * (seed 2); without ../shared the run paths are '' and `skip` says why (tests pass it to test()).
 */
export async function twoSmallRuns(prefix: string): Promise<{ scratch: string; skip: string | false; a: string; b: string }> {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  if (!hasShared) return { scratch, skip: 'needs ../shared (RAVDESS)', a: '', b: '' };
  miniRavdess(scratch);
  return { scratch, skip: false, a: await smallRun(scratch, 'a', 1), b: await smallRun(scratch, 'b', 2) };
}
