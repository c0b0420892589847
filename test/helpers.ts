/** Shared test utilities: where the repository and ../shared are, and numeric comparison. */
import { existsSync } from 'node:fs';
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
