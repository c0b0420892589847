/**
 * `ser train` killed with SIGKILL at seeded moments and resumed with `--resume` gives the same model.onnx, byte
 * for byte, and the same history as an uninterrupted run. One kill comes a seeded fraction (mulberry32, seed 12) of
 * an epoch's duration after the epoch 1 line, so it lands in epoch 2's steps, its BN re-estimation and evaluation,
 * or its checkpoint write; one comes the moment training announces its end (metrics, report, figures and model.onnx
 * being written).
 * A kill leaves train.lock behind: each resume also takes over a stale lock. Tiny run: 24 embedded clips, 1-second
 * clips, the small model, 2 epochs (the features cached after the first run).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/data/prng.js';
import { assetPath } from '../../src/io/paths.js';
import { historyWithoutSeconds } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-kill-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = join(scratch, 'manifest.csv');
const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SETTINGS = [
  '--data',
  manifest,
  '--dataset',
  'csv',
  '--seed',
  '4',
  '--epochs',
  '2',
  '--size',
  'small',
  '--duration',
  '1',
  '--batch-size',
  '4',
];
const RUNTIME = ['--cache', join(scratch, 'cache'), '--threads', '1', '--progress', 'lines'];

before(() => {
  const rows = readFileSync(assetPath('corpus', 'manifest.csv'), 'utf8').trim().split('\n');
  const picked = ['neutral', 'happy', 'sad', 'angry'].flatMap((emotion) =>
    ['01', '02', '03', '04', '05', '06'].map(
      (actor) => rows.find((row) => row.split(',')[1] === emotion && row.split(',')[2] === actor) as string,
    ),
  );
  writeFileSync(
    manifest,
    [rows[0], ...picked.map((row) => assetPath('corpus', row.split(',')[0] as string) + row.slice(row.indexOf(',')))].join('\n') + '\n',
  );
});

/** When to SIGKILL: `delayMs` after stderr first matches `after`. */
interface KillPoint {
  after: RegExp;
  delayMs: number;
}

/** Starts `ser train`; resolves when it exits, with its stderr and the times (ms from start) of its epoch lines. */
function train(
  args: string[],
  kill?: KillPoint,
): Promise<{ code: number | null; signal: string | null; stderr: string; epochMs: number[] }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child: ChildProcess = spawn(process.execPath, [main, 'train', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const epochMs: number[] = [];
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      for (const _ of text.match(/^epoch \d\/\d /gm) ?? []) epochMs.push(performance.now() - started);
      if (kill && timer === undefined && kill.after.test(stderr)) timer = setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, epochMs });
    });
  });
}

/** Resumes `dir` until a run ends (a kill before config.json existed means starting it anew). */
async function finish(dir: string): Promise<number> {
  const resumed = existsSync(join(dir, 'config.json'))
    ? await train(['--out', dir, '--resume', ...RUNTIME])
    : await train(['--out', dir, ...SETTINGS, ...RUNTIME]);
  assert.equal(resumed.code, 0, resumed.stderr);
  return resumed.stderr.includes('took over the lock') ? 1 : 0;
}

test('SIGKILL at seeded moments, then --resume: the same model.onnx byte for byte and the same history', async () => {
  const whole = join(scratch, 'whole');
  const reference = await train(['--out', whole, ...SETTINGS, ...RUNTIME]);
  assert.equal(reference.code, 0, reference.stderr);
  const model = readFileSync(join(whole, 'model.onnx'));
  const epoch = (reference.epochMs[1] as number) - (reference.epochMs[0] as number);

  const random = mulberry32(12);
  const kills: KillPoint[] = [
    { after: /^epoch 1\/2 /m, delayMs: Math.round(random() * epoch) },
    { after: /epoch budget used after 2 epochs/, delayMs: 0 },
  ];
  let takenOver = 0;
  for (const [k, killAt] of kills.entries()) {
    const dir = join(scratch, `killed-${k}`);
    const killed = await train(['--out', dir, ...SETTINGS, ...RUNTIME], killAt);
    const when = `${killAt.delayMs} ms after ${killAt.after} (an epoch takes ${epoch.toFixed(0)} ms)`;
    if (killed.code === 0) {
      // The run ended before the kill came: nothing to resume.
      console.log(`kill ${k} at ${when}: the run had ended`);
    } else {
      assert.equal(killed.signal, 'SIGKILL', killed.stderr);
      const epochs = (killed.stderr.match(/^epoch \d\/2 /gm) ?? []).length;
      console.log(`kill ${k} at ${when}: after ${epochs} epoch line(s)`);
      takenOver += await finish(dir);
    }
    assert.ok(readFileSync(join(dir, 'model.onnx')).equals(model), `kill ${k} (${when}): model.onnx differs`);
    assert.deepEqual(historyWithoutSeconds(dir), historyWithoutSeconds(whole), `kill ${k}`);
  }
  assert.ok(takenOver >= 1, 'a resume took over the lock the killed run left');
});
