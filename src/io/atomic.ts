import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SerError } from '../errors.js';

/**
 * Writes a file so that readers see either the old content or the new, never a half-written file:
 * write to `<path>.tmp-<pid>`, fsync, rename over `path` (rename is atomic within one file system).
 * On failure (a full disk, an unwritable folder) the temp file is removed, `path` keeps its previous content,
 * and the error is an EIO SerError naming the path, the system's code and what to do.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // The folder may not even be listable; the write error below is what matters.
    }
    throw writeError(path, error);
  }
}

/** The name of a temp file writeFileAtomic (and the feature cache, the run lock) writes: `<name>.tmp-<pid>`. */
const TEMP_FILE = /\.tmp-(\d+)$/;

/**
 * Removes the temp files `<name>.tmp-<pid>` directly in `dir` whose process is gone (kill(pid, 0) fails with ESRCH):
 * what a crash or SIGKILL between write and rename leaves behind, and would otherwise pile up. Those of live
 * processes (another ser writing there now, this one included) stay, as do those whose process cannot be probed
 * (EPERM: another user's). The pid is this host's: a folder shared with another machine (NFS) is not swept of that
 * machine's live writes by a check here, so keep run and cache folders per machine. Returns the paths removed; a
 * folder that is missing or cannot be listed removes nothing (the writes that follow report the problem).
 */
export function sweepStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(TEMP_FILE.exec(name)?.[1] ?? Number.NaN);
    if (!(Number.isSafeInteger(pid) && pid > 0) || processRuns(pid)) continue;
    try {
      rmSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // Gone already (another sweep), or not ours to remove: leave it.
    }
  }
  return removed;
}

/** Whether process `pid` runs on this host (or cannot be probed: then it is taken to run). */
function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full: free some space and run the command again',
  EDQUOT: 'the disk quota is used up: free some space and run the command again',
  EACCES: 'permission denied: make the folder writable or choose another one',
  EPERM: 'permission denied: make the folder writable or choose another one',
  EROFS: 'the file system is read-only: choose another folder',
  ENOTDIR: 'a part of the path is a file, not a folder: choose another path',
  EISDIR: 'a folder has that name: choose another path',
};

/** An EIO SerError for a failed write of `path`, with the system's code and advice; SerErrors pass through. */
export function writeError(path: string, error: unknown): SerError {
  if (error instanceof SerError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const advice = code ? ADVICE[code] : undefined;
  const detail = code ? `${code}${advice ? `: ${advice}` : ''}` : (error as Error).message;
  return new SerError('EIO', 'io', `${path}: cannot write (${detail}); any previous version of the file is intact`, { cause: error });
}
