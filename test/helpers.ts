/** Shared test utilities: where the repository and ../shared are, and numeric comparison. */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/io/paths.js';

export const repoRoot = packageRoot();
/** ../shared beside the checkout (CI has it); tests that need it skip with a reason when it is absent. */
export const sharedDir = join(repoRoot, '..', 'shared');
export const hasShared = existsSync(join(sharedDir, 'golden'));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/** max |a - b| over all elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** max |a - b| / max |b|: the relative error measure of ../shared/golden/README.md. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] as number));
  return maxAbsDiff(actual, expected) / (scale || 1);
}

/**
 * A corpus of one folder per class (`--dataset folders`) from ../shared's RAVDESS WAVs: for each label and its
 * RAVDESS emotion code (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, ...), the first recording
 * (03-01-CODE-01-01-01-ACTOR.wav) of each actor. Returns `dir`.
 */
export function ravdessClassFolders(dir: string, codes: Readonly<Record<string, string>>, actors: readonly string[]): string {
  for (const [label, code] of Object.entries(codes)) {
    mkdirSync(join(dir, label), { recursive: true });
    for (const actor of actors) {
      const name = `03-01-${code}-01-01-01-${actor}.wav`;
      copyFileSync(join(sharedDir, 'data', 'ravdess', `Actor_${actor}`, name), join(dir, label, name));
    }
  }
  return dir;
}
