import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
