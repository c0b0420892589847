/**
 * A lock on a run folder, so two `ser train` processes never write the same run (`--out D` twice, or `--resume`
 * while D is still training). The lock is the file `D/train.lock` holding {pid, host, startTicks, since}; it is
 * created atomically (written to a temp file, then hard-linked to its name: link fails when the name exists).
 *
 * A lock whose process is gone is stale and taken over: same host, and no process with that pid, or one with
 * another start time (/proc/PID/stat field 22, so a reused pid does not hold the lock forever). A lock from another
 * host is never taken over (we cannot tell whether its process lives): the error says to remove it by hand.
 * SIGKILL leaves the lock file behind; the next run takes it over as stale.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SerError } from '../errors.js';

export const LOCK_FILE = 'train.lock';

interface LockInfo {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (Linux), or null where /proc is absent. */
  startTicks: number | null;
  /** ISO time the lock was taken. */
  since: string;
}

export interface RunLock {
  readonly path: string;
  /** The stale lock this one replaced, if any (pid and since), for a log line. */
  readonly tookOver: { pid: number; since: string } | null;
  /** Removes the lock file (only if it is still ours). */
  release(): void;
}

/** Start time of process `pid` in clock ticks since boot, null when unknown (no /proc), undefined when no such process. */
function startTicks(pid: number): number | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      try {
        readFileSync('/proc/self/stat');
      } catch {
        return null; // no /proc at all: fall back to kill(pid, 0)
      }
      return undefined;
    }
    return null;
  }
  // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'; starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[19]);
}

/** Whether the process that wrote `info` still runs (on this host). */
function alive(info: LockInfo): boolean {
  const ticks = startTicks(info.pid);
  if (ticks === undefined) return false;
  if (ticks !== null && info.startTicks !== null) return ticks === info.startTicks;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') return null;
    return { pid: info.pid, host: info.host, startTicks: info.startTicks ?? null, since: String(info.since) };
  } catch {
    return null;
  }
}

/**
 * Takes the lock of run folder `dir` (which must exist) for `purpose` ('train', 'resume'). Throws EBUSY naming the
 * process that holds it. A stale lock (see the module comment) is taken over and reported in `tookOver`.
 */
export function acquireRunLock(dir: string, purpose: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const mine: LockInfo = {
    pid: process.pid,
    host: hostname(),
    startTicks: startTicks(process.pid) ?? null,
    since: new Date().toISOString(),
  };
  const text = JSON.stringify(mine);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  let tookOver: RunLock['tookOver'] = null;
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, path);
        return { path, tookOver, release: () => releaseIfMine(path, text) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readLock(path);
      if (holder && (holder.host !== mine.host || alive(holder))) {
        const where = holder.host === mine.host ? `process ${holder.pid}` : `process ${holder.pid} on host ${holder.host}`;
        throw new SerError(
          'EBUSY',
          purpose,
          `${dir} is in use: ${where} has been training it since ${holder.since}; wait for it to end or stop it` +
            (holder.host === mine.host ? '' : ` (if it is gone, remove ${path})`),
        );
      }
      // Stale (or unreadable, e.g. a lock cut short by a crash): move it aside, check it is the one we judged, retry.
      const aside = `${path}.stale-${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = readLock(aside);
      if (holder && moved && (moved.pid !== holder.pid || moved.since !== holder.since)) {
        // Another process replaced the stale lock between our read and our rename: put its lock back.
        try {
          linkSync(aside, path);
        } catch {
          // It has a lock again already; ours is the one that lost.
        }
        rmSync(aside, { force: true });
        continue;
      }
      rmSync(aside, { force: true });
      tookOver = holder ? { pid: holder.pid, since: holder.since } : { pid: 0, since: 'unknown' };
    }
    throw new SerError('EBUSY', purpose, `${dir}: could not take ${path} after 5 attempts (several processes are starting on it)`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function releaseIfMine(path: string, text: string): void {
  try {
    if (readFileSync(path, 'utf8') === text) rmSync(path, { force: true });
  } catch {
    // Already gone.
  }
}
