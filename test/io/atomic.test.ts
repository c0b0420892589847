/**
 * writeFileAtomic on real faults: a full disk (a 64 KB tmpfs) and an unwritable folder (a read-only tmpfs as root,
 * chmod 555 otherwise). The error is EIO naming the path and the system's code with advice, the previous content
 * survives, and no temp file is left behind. Mounting needs root; without it the full-disk case is skipped.
 * sweepStaleTempFiles removes the temp files of processes that are gone (a crash mid-write), in a folder and in the
 * feature cache when it is used, and never those of live processes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SerError } from '../../src/errors.js';
import { loadCorpus } from '../../src/data/corpus.js';
import { extractFeatures } from '../../src/data/index.js';
import { sweepStaleTempFiles, writeFileAtomic } from '../../src/io/atomic.js';
import { assetPath } from '../../src/io/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-atomic-'));
const mounted: string[] = [];
after(() => {
  for (const dir of mounted) execFileSync('umount', [dir]);
  rmSync(scratch, { recursive: true, force: true });
});

const isRoot = process.getuid?.() === 0;

/** A tmpfs of `size` at a new folder, or null when this process may not mount. */
function tmpfs(name: string, options: string): string | null {
  const dir = join(scratch, name);
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  mounted.push(dir);
  return dir;
}

const canMount = isRoot && tmpfs('probe', 'size=16k') !== null;

function assertWriteError(error: unknown, path: string, code: RegExp): boolean {
  assert.ok(error instanceof SerError, String(error));
  assert.equal(error.code, 'EIO');
  assert.ok(error.message.startsWith(`io: ${path}: cannot write (`), error.message);
  assert.match(error.message, code);
  assert.match(error.message, /any previous version of the file is intact/);
  return true;
}

test('a full disk: EIO with ENOSPC and advice, the old file intact, no temp file left', {
  skip: !canMount && 'needs root to mount a small tmpfs',
}, () => {
  const dir = tmpfs('full', 'size=64k') as string;
  const path = join(dir, 'checkpoint.safetensors');
  writeFileAtomic(path, 'the last good checkpoint');
  for (let attempt = 0; attempt < 3; attempt++) {
    assert.throws(
      () => writeFileAtomic(path, new Uint8Array(256 * 1024)),
      (e) => assertWriteError(e, path, /\(ENOSPC: the disk is full: free some space/),
    );
  }
  assert.equal(readFileSync(path, 'utf8'), 'the last good checkpoint');
  assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors']);
});

test('an unwritable folder: EIO with EROFS / EACCES and advice, no temp file left', () => {
  let dir: string;
  if (canMount) {
    dir = tmpfs('read-only', 'size=64k') as string;
    writeFileSync(join(dir, 'config.json'), '{}');
    execFileSync('mount', ['-o', 'remount,ro', dir]);
  } else {
    dir = join(scratch, 'read-only');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), '{}');
    chmodSync(dir, 0o555);
  }
  const path = join(dir, 'config.json');
  assert.throws(
    () => writeFileAtomic(path, '{"new": true}'),
    (e) => assertWriteError(e, path, /\((EROFS: the file system is read-only|EACCES: permission denied: make the folder writable)/),
  );
  assert.equal(readFileSync(path, 'utf8'), '{}');
  assert.deepEqual(readdirSync(dir), ['config.json']);
  if (!canMount) chmodSync(dir, 0o755);
});

/** The pid of a process that has exited (a child that ran `true`); pids are not reused within a test's lifetime in practice. */
function deadPid(): number {
  const child = spawnSync('true');
  assert.ok(child.pid && child.status === 0);
  return child.pid;
}

test('sweepStaleTempFiles removes *.tmp-PID of processes that are gone, never those of live ones or other names', async () => {
  const dir = join(scratch, 'sweep');
  mkdirSync(dir);
  const live = spawn('sleep', ['60']);
  try {
    const dead = deadPid();
    const names = {
      stale: `config.json.tmp-${dead}`,
      stalePack: `ravdess-3f2a9c01d4e5.safetensors.tmp-${dead}`,
      mine: `metrics.json.tmp-${process.pid}`,
      liveChild: `checkpoint.safetensors.tmp-${live.pid}`,
      notPid: 'notes.tmp-abc',
      suffix: `x.tmp-${dead}.bak`,
      plain: 'config.json',
    };
    for (const name of Object.values(names)) writeFileSync(join(dir, name), 'x');
    mkdirSync(join(dir, `folder.tmp-${dead}`));
    const removed = sweepStaleTempFiles(dir);
    assert.deepEqual(removed.sort(), [join(dir, names.stale), join(dir, names.stalePack)].sort());
    assert.deepEqual(
      readdirSync(dir).sort(),
      [names.mine, names.liveChild, names.notPid, names.suffix, names.plain, `folder.tmp-${dead}`].sort(),
    );
    assert.deepEqual(sweepStaleTempFiles(join(dir, 'missing')), []);
  } finally {
    live.kill();
  }
});

test("the feature cache folder is swept when used: a dead process's pack temp goes, a live one's stays", async () => {
  const cacheDir = join(scratch, 'cache');
  mkdirSync(cacheDir);
  const live = spawn('sleep', ['60']);
  try {
    const stale = join(cacheDir, `crema-d-000000000000.safetensors.tmp-${deadPid()}`);
    const busy = join(cacheDir, `crema-d-000000000000.safetensors.tmp-${live.pid}`);
    writeFileSync(stale, 'half a pack');
    writeFileSync(busy, 'a pack being written');
    const corpus = loadCorpus({ dataset: 'crema-d', path: assetPath('corpus', 'crema-d') });
    const extracted = await extractFeatures(corpus.utterances.slice(0, 1), { durationS: 1, cacheDir });
    assert.equal(extracted.kept.length, 1);
    assert.ok(!existsSync(stale), "the dead process's temp file is removed");
    assert.ok(existsSync(busy), "the live process's temp file stays");
  } finally {
    live.kill();
  }
});
