/**
 * `ser predict` and predictFiles/predictSegments on audio that must not get a confident emotion (issue 12):
 * digital silence, -70 dBFS hiss and a 0.2 s cut are flagged no_speech / too_short; a float WAV with one 1e20
 * sample is an EAUDIO error naming the file (it used to print null probabilities); a real clip beside them is
 * still classified. The shipped model, real speech from the embedded corpus.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { mulberry32 } from '../../src/data/prng.js';
import { assetPath } from '../../src/io/paths.js';
import { predictFiles, predictSegments } from '../../src/infer/inference.js';
import { simpleWav } from '../audio/audio-helpers.js';
import { runCli } from './run-cli.js';

const RATE = 16000;
const scratch = mkdtempSync(join(tmpdir(), 'ser-unusable-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const speech = assetPath('corpus', 'crema-d', '1001_DFA_ANG_XX.opus');
const paths = {
  silence: join(scratch, 'silence.wav'),
  hiss: join(scratch, 'hiss.wav'),
  short: join(scratch, 'short.wav'),
  huge: join(scratch, 'huge.wav'),
  /** 3 s of silence, the speech clip, 4 s of silence: windows of silence flagged in --segments. */
  padded: join(scratch, 'padded.wav'),
};

const floatWav = (samples: Float32Array) => simpleWav({ tag: 3, bits: 32, sampleRateHz: RATE }, new Uint8Array(samples.buffer));

before(async () => {
  const clip = (await loadAudio(speech)).samples;
  const random = mulberry32(1);
  const hissAmplitude = Math.sqrt(3) * 10 ** (-70 / 20); // uniform noise, RMS -70 dBFS
  const huge = clip.slice();
  huge[1000] = 1e20;
  const padded = new Float32Array(7 * RATE + clip.length);
  padded.set(clip, 3 * RATE);
  writeFileSync(paths.silence, floatWav(new Float32Array(3 * RATE)));
  writeFileSync(paths.hiss, floatWav(Float32Array.from({ length: 3 * RATE }, () => (2 * random() - 1) * hissAmplitude)));
  writeFileSync(paths.short, floatWav(clip.slice(RATE / 2, RATE / 2 + 0.2 * RATE)));
  writeFileSync(paths.huge, floatWav(huge));
  writeFileSync(paths.padded, floatWav(padded));
});

test('predictFiles: silence and hiss are no_speech, 0.2 s too_short, a 1e20 sample EAUDIO; the real clip is classified', async () => {
  const results = await predictFiles(undefined, [paths.silence, paths.hiss, paths.short, paths.huge, speech], { threads: 1 });
  const [silence, hiss, short, huge, real] = results;
  assert.deepEqual(silence && 'flag' in silence ? silence.flag : silence, 'no_speech');
  assert.match(silence && 'reason' in silence ? silence.reason : '', /-inf dBFS, below the -70 dBFS speech floor/);
  assert.deepEqual(hiss && 'flag' in hiss ? hiss.flag : hiss, 'no_speech');
  assert.deepEqual(short && 'flag' in short ? short.flag : short, 'too_short');
  assert.deepEqual(huge && 'code' in huge ? [huge.code, huge.file] : huge, ['EAUDIO', paths.huge]);
  assert.match(huge && 'error' in huge ? huge.error : '', /huge\.wav: sample 1000 .* is 1\.00e\+20/);
  assert.ok(real && 'label' in real && Object.values(real.probabilities).every(Number.isFinite), JSON.stringify(real));
});

test('predictSegments: windows of silence are flagged and left out of the mean; a silent file is flagged whole', async () => {
  const [padded, silence] = await predictSegments(undefined, [paths.padded, paths.silence], { threads: 1 });
  assert.ok(padded && 'segments' in padded, JSON.stringify(padded));
  // The shipped model's windows are 3 s: [0, 3) is silence, [3, 6) holds the clip, [6, 9) and [9, 12) silence.
  assert.deepEqual(
    padded.flaggedSegments.map((s) => [s.startS, s.flag, s.speechS]),
    [
      [0, 'no_speech', 0],
      [6, 'no_speech', 0],
    ],
  );
  assert.deepEqual(
    padded.segments.map((s) => s.startS),
    [3],
  );
  assert.equal(padded.label, padded.segments[0]?.label);
  assert.deepEqual(silence && 'flag' in silence ? silence.flag : silence, 'no_speech');
});

test('ser predict: flagged files print their flag (text and --json), the error names the file with its code', async () => {
  const files = [paths.silence, paths.short, paths.huge, speech];
  const json = await runCli(['predict', ...files, '--json', '--threads', '1']);
  assert.equal(json.code, 0, json.stderr);
  const lines = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l.flag ?? l.code ?? 'label'),
    ['no_speech', 'too_short', 'EAUDIO', 'label'],
  );
  assert.ok(
    lines.every((l) => !JSON.stringify(l).includes('null')),
    json.stdout,
  );
  assert.match(
    json.stderr,
    /^ser: 1 of 4 file\(s\) classified, 2 flagged without an emotion \(no speech or too short\), 1 could not be used$/m,
  );

  const text = await runCli(['predict', ...files, '--threads', '1']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /silence\.wav: no_speech {2}\(no speech found: /);
  assert.match(text.stdout, /short\.wav: too_short {2}\(0\.200 s of audio; at least 0\.5 s is needed/);
  assert.match(text.stderr, /^ser: load: .*huge\.wav: sample \d+ .* is 1\.00e\+20.* \[EAUDIO\]$/m);
  assert.doesNotMatch(text.stdout, /huge\.wav/);
});

test('ser eval: a silent clip and a 1e20 sample are skipped, each line naming the file; a cut clip is scored with a warning; --jobs', async () => {
  // A `folders` corpus: the 12 embedded CREMA-D clips in class folders, plus the silent file and the huge one.
  const root = join(scratch, 'corpus');
  const folder: Record<string, string> = { ANG: 'angry', DIS: 'disgust', FEA: 'fear', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
  for (const name of readdirSync(assetPath('corpus', 'crema-d')).filter((n) => n.endsWith('.opus'))) {
    const label = folder[name.split('_')[2] as string] as string;
    mkdirSync(join(root, label), { recursive: true });
    copyFileSync(assetPath('corpus', 'crema-d', name), join(root, label, name));
  }
  copyFileSync(paths.silence, join(root, 'neutral', 'silence.wav'));
  copyFileSync(paths.huge, join(root, 'angry', 'huge.wav'));
  const padded = readFileSync(paths.padded);
  writeFileSync(join(root, 'sad', 'cut.wav'), padded.subarray(0, Math.floor(padded.length * 0.6)));
  const result = await runCli(['eval', '--data', root, '--dataset', 'folders', '--json', '--no-cache', '--threads', '1']);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { samples: number; skipped: number; accuracy: number; uar: number };
  assert.deepEqual([report.samples, report.skipped], [13, 2]);
  assert.ok(Number.isFinite(report.accuracy) && Number.isFinite(report.uar), result.stdout);
  assert.match(result.stderr, /^skipped .*neutral\/silence\.wav: load: .*silence\.wav: no_speech: no speech found/m);
  assert.match(result.stderr, /^skipped .*angry\/huge\.wav: load: .*huge\.wav: sample 1000 .* is 1\.00e\+20/m);
  assert.match(result.stderr, /^ser: warning: decode: .*sad\/cut\.wav: data chunk claims .* decoded the \d+\.\d+ s that are there$/m);
  // Features on worker threads (the default above) or none: the same report, skipped lines and warning, byte for byte.
  const sequential = await runCli([
    'eval',
    '--data',
    root,
    '--dataset',
    'folders',
    '--json',
    '--no-cache',
    '--threads',
    '1',
    '--jobs',
    '0',
  ]);
  assert.deepEqual([sequential.code, sequential.stdout, sequential.stderr], [0, result.stdout, result.stderr]);
  for (const command of [['eval'], ['train', '--out', join(scratch, 'no-run')]]) {
    const negative = await runCli([...command, '--data', root, '--dataset', 'folders', '--jobs', '-1']);
    assert.match(negative.stderr, /^ser: cli: --jobs must be an integer >= 0 \('-1' given\) \[EARG\]$/m, command[0]);
  }
});

test('ser predict on a truncated WAV: classified from what is there, the warning on stderr and in the JSON', async () => {
  const truncated = join(scratch, 'truncated.wav');
  const whole = readFileSync(paths.padded);
  writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.7)));
  const json = await runCli(['predict', truncated, '--json', '--threads', '1']);
  assert.equal(json.code, 0, json.stderr);
  const p = JSON.parse(json.stdout) as { label?: string; warnings?: string[] };
  assert.ok(p.label, json.stdout);
  assert.match(p.warnings?.[0] ?? '', /^decode: .*truncated\.wav: data chunk claims .* decoded the \d+\.\d+ s that are there$/);
  assert.match(json.stderr, /^ser: warning: decode: .*truncated\.wav: data chunk claims/m);
});
