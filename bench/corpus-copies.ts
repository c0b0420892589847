/**
 * What the scripts that make degraded copies of a corpus folder share (bench/telephone.ts, bench/noisy-copies.ts):
 * the files to copy (or read: bench/level-contrast.ts), the 16-bit WAV bytes to write, and the copy's path, so the folder tree and file names are
 * kept and the copy reads with the corpus's own --dataset.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { int16Bytes, simpleWav } from '../test/audio/audio-helpers.js';

/**
 * The files under `from` whose names match `pattern` (default: WAV), sorted by path, in the top-level folders named
 * in `only` (all when null); refuses a `from` that is not a folder and unknown names in `only`.
 */
export function corpusFiles(from: string, only: ReadonlySet<string> | null, pattern = /\.wav$/i): string[] {
  if (!statSync(from, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--from ${from} is not a folder`);
  const missing = [...(only ?? [])].filter((name) => !statSync(join(from, name), { throwIfNoEntry: false })?.isDirectory());
  if (missing.length > 0) throw new Error(`--only names folders that ${from} does not have: ${missing.join(', ')}`);
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) return only && dir === from && !only.has(name) ? [] : walk(path);
        return pattern.test(name) ? [path] : [];
      });
  return walk(from);
}

/** Where the copy of `file` (under `from`) goes under `to`. */
export function copyPath(from: string, to: string, file: string): string {
  return join(to, relative(from, file));
}

/** 16-bit PCM mono WAV bytes of `samples` in [-1, 1] (clipped). */
export function wavBytes(samples: Float32Array, rateHz: number): Uint8Array {
  return simpleWav(
    { bits: 16, sampleRateHz: rateHz },
    int16Bytes(Array.from(samples, (s) => Math.round(Math.max(-1, Math.min(1, s)) * 32767))),
  );
}
