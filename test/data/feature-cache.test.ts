import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio, resample } from '../../src/audio/index.js';
import {
  type Utterance,
  defaultCacheDir,
  extractFeatures,
  extractUtteranceLogMels,
  loadCorpus,
  summarizeFailures,
} from '../../src/data/index.js';
import { LogMelFrontEnd, clipLogMel, fixLength } from '../../src/features/index.js';
import { utteranceLogMel } from '../../src/features/utterance.js';
import { simpleWav } from '../audio/audio-helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { assetPath } from '../../src/io/paths.js';
import { hasShared, sharedDir } from '../helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-data-cache-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Copies of real clips in a scratch folder (so the test may touch and break them): the 6 CREMA-D samples of actor
 * 1001 from ../shared when present (16 kHz WAV), else the embedded Opus versions. */
function scratchCorpus(name: string): { dir: string; utterances: Utterance[] } {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const source = hasShared ? join(sharedDir, 'data', 'crema-d', 'sample') : assetPath('corpus', 'crema-d');
  for (const file of readdirSync(source).filter((f) => f.startsWith('1001_'))) copyFileSync(join(source, file), join(dir, file));
  return { dir, utterances: loadCorpus({ dataset: 'crema-d', path: dir }).utterances };
}

test('features equal loadAudio -> fixLength(3 s) -> logMel, row by row, in input order', async () => {
  const { utterances } = scratchCorpus('direct');
  const reversed = [...utterances].reverse();
  const result = await extractFeatures(reversed, { cacheDir: null });
  assert.equal(result.kept.length, 6);
  assert.deepEqual(result.kept, reversed);
  assert.deepEqual([result.nMels, result.frames], [128, 188]);
  assert.equal(result.features.length, 6 * 128 * 188);
  const frontEnd = new LogMelFrontEnd();
  for (const [i, u] of reversed.entries()) {
    const audio = await loadAudio(u.path);
    const expected = frontEnd.logMel(fixLength(audio.samples, 48000)).data;
    assert.deepEqual(result.features.subarray(i * 128 * 188, (i + 1) * 128 * 188), expected, u.id);
  }
});

test('cache: miss, then hit with identical features; front-end, duration and offset changes recompute', async () => {
  const { utterances } = scratchCorpus('cache');
  const cacheDir = join(scratch, 'cache-dir');
  const progress: number[] = [];
  const first = await extractFeatures(utterances, { cacheDir, onProgress: (done, total) => progress.push(done / total) });
  assert.deepEqual([first.computed, first.cacheHits], [6, 0]);
  assert.equal(progress.at(-1), 1);
  assert.equal(progress.length, 6);
  const packs = readdirSync(cacheDir);
  assert.equal(packs.length, 1);
  assert.match(packs[0] ?? '', /^crema-d-[0-9a-f]{12}\.safetensors$/);
  // The pack is an ordinary safetensors file.
  const pack = readSafetensors(join(cacheDir, packs[0] as string));
  assert.deepEqual(pack.tensors.get('features')?.shape, [6 * 128 * 188]);
  assert.equal(JSON.parse(pack.metadata.index ?? '[]').length, 6);

  const second = await extractFeatures(utterances, { cacheDir });
  assert.deepEqual([second.computed, second.cacheHits], [0, 6]);
  assert.deepEqual(second.features, first.features);
  // A subset in another order is served from the cache too.
  const subset = [utterances[4], utterances[1]] as Utterance[];
  const third = await extractFeatures(subset, { cacheDir });
  assert.deepEqual([third.computed, third.cacheHits], [0, 2]);
  assert.deepEqual(third.features.subarray(0, 128 * 188), first.features.subarray(4 * 128 * 188, 5 * 128 * 188));

  const fewerMels = await extractFeatures(utterances, { cacheDir, frontEnd: { nMels: 64 } });
  assert.deepEqual([fewerMels.computed, fewerMels.cacheHits, fewerMels.nMels], [6, 0, 64]);
  const topDb = await extractFeatures(utterances, { cacheDir, frontEnd: new LogMelFrontEnd({ topDb: null }) });
  assert.deepEqual([topDb.computed, topDb.cacheHits], [6, 0]);
  const shorter = await extractFeatures(utterances, { cacheDir, durationS: 2 });
  assert.deepEqual([shorter.computed, shorter.frames], [6, 126]);
  const offset = await extractFeatures(utterances, { cacheDir, offsetS: 0.5 });
  assert.equal(offset.computed, 6);
  assert.notDeepEqual(offset.features.subarray(0, 128 * 188), first.features.subarray(0, 128 * 188));
  // The default front end is still cached.
  assert.equal((await extractFeatures(utterances, { cacheDir })).cacheHits, 6);
});

test('cache keyed by content: a touched file is reused; a rewritten one is recomputed even with its old size and mtime', async () => {
  const { dir, utterances } = scratchCorpus('touch');
  const cacheDir = join(scratch, 'cache-touch');
  const before = await extractFeatures(utterances, { cacheDir });
  const touched = utterances[2] as Utterance;
  const original = statSync(touched.path);
  const later = new Date(original.mtimeMs + 5000);
  utimesSync(touched.path, later, later);
  const after1 = await extractFeatures(utterances, { cacheDir });
  assert.deepEqual([after1.computed, after1.cacheHits], [0, 6], 'same bytes, newer mtime: still a hit');
  assert.deepEqual(after1.features, before.features);
  // One byte changed in place, then the old mtime put back: size and mtime match, the content does not.
  const bytes = readFileSync(touched.path);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x01;
  writeFileSync(touched.path, bytes);
  utimesSync(touched.path, original.atimeMs / 1000, original.mtimeMs / 1000);
  assert.ok(Math.abs(statSync(touched.path).mtimeMs - original.mtimeMs) < 0.01, 'the old mtime, to the microsecond');
  const changed = await extractFeatures(utterances, { cacheDir });
  assert.deepEqual([changed.computed, changed.cacheHits], [1, 5]);
  // Replace the file's content with another clip: recomputed, and the new features are that clip's.
  copyFileSync(join(dir, (utterances[0] as Utterance).id), touched.path);
  const after2 = await extractFeatures(utterances, { cacheDir });
  assert.deepEqual([after2.computed, after2.cacheHits], [1, 5]);
  const row = 128 * 188;
  assert.deepEqual(after2.features.subarray(2 * row, 3 * row), before.features.subarray(0, row));
  // The pack now holds each file once.
  const packFile = join(cacheDir, readdirSync(cacheDir)[0] as string);
  assert.equal(JSON.parse(readSafetensors(packFile).metadata.index ?? '[]').length, 6);
});

test('a corrupt cache file is ignored and rewritten', async () => {
  const { utterances } = scratchCorpus('corrupt');
  const cacheDir = join(scratch, 'cache-corrupt');
  await extractFeatures(utterances.slice(0, 2), { cacheDir });
  const packFile = join(cacheDir, readdirSync(cacheDir)[0] as string);
  writeFileSync(packFile, readFileSync(packFile).subarray(0, 1000));
  const again = await extractFeatures(utterances.slice(0, 2), { cacheDir });
  assert.deepEqual([again.computed, again.cacheHits], [2, 0]);
  assert.equal((await extractFeatures(utterances.slice(0, 2), { cacheDir })).cacheHits, 2);
});

test('decode failures and missing files are listed and skipped; the rest keep their rows', async () => {
  const { utterances } = scratchCorpus('broken');
  const good = await extractFeatures(utterances, { cacheDir: null });
  // A real clip cut inside its headers (a truncated download: 30 bytes, no sample to decode), and a file deleted
  // after listing. (Cut after its headers, a WAV decodes what is there, with a warning: test/audio/corrupt.test.ts.)
  const truncated = utterances[1] as Utterance;
  writeFileSync(truncated.path, readFileSync(truncated.path).subarray(0, 30));
  const deleted = utterances[3] as Utterance;
  rmSync(deleted.path);
  const cacheDir = join(scratch, 'cache-broken');
  const result = await extractFeatures(utterances, { cacheDir });
  assert.equal(result.kept.length, 4);
  assert.deepEqual(result.failed.map((f) => f.path).sort(), [truncated.path, deleted.path].sort());
  assert.match(result.failed.find((f) => f.path === deleted.path)?.error ?? '', /cannot read \(ENOENT\)/);
  assert.match(result.failed.find((f) => f.path === truncated.path)?.error ?? '', /1001_DFA_DIS_XX/);
  const row = 128 * 188;
  for (const [i, u] of result.kept.entries()) {
    const j = utterances.indexOf(u);
    assert.deepEqual(result.features.subarray(i * row, (i + 1) * row), good.features.subarray(j * row, (j + 1) * row), u.id);
  }
  assert.match(summarizeFailures(result), /^2 of 6 files skipped: /);
  // Failures are not cached: they are tried again (and still fail), the good rows come from the cache.
  const again = await extractFeatures(utterances, { cacheDir });
  assert.deepEqual([again.cacheHits, again.computed, again.failed.length], [4, 0, 2]);
});

test('option errors', async () => {
  await assert.rejects(extractFeatures([], { durationS: 0 }), {
    code: 'EARG',
    message: /durationS must be a positive number of seconds \(0 given\)/,
  });
  await assert.rejects(extractFeatures([], { offsetS: -1 }), { code: 'EARG', message: /offsetS must be >= 0/ });
  const empty = await extractFeatures([], { cacheDir: null });
  assert.deepEqual([empty.features.length, empty.kept.length], [0, 0]);
});

test('without cacheDir the cache is $XDG_CACHE_HOME/speech-emotion (the CLI default too)', async () => {
  const { utterances } = scratchCorpus('default-dir');
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(scratch, 'xdg');
  try {
    assert.equal(defaultCacheDir(), join(scratch, 'xdg', 'speech-emotion'));
    const result = await extractFeatures(utterances.slice(0, 1));
    assert.equal(result.computed, 1);
    assert.equal(readdirSync(join(scratch, 'xdg', 'speech-emotion')).filter((f) => f.endsWith('.safetensors')).length, 1);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('a cache folder that cannot be created is EIO naming both the CLI flags and the library option', async () => {
  const { utterances } = scratchCorpus('blocked');
  const file = join(scratch, 'a-file');
  writeFileSync(file, 'not a folder');
  await assert.rejects(
    extractFeatures(utterances.slice(0, 1), { cacheDir: join(file, 'cache') }),
    (error: Error & { code?: string }) =>
      error.code === 'EIO' &&
      /cannot create the feature cache folder \(ENOTDIR\); choose another one \(ser: --cache DIR, or --no-cache; library: the cacheDir option\)/.test(
        error.message,
      ),
  );
});

test('a truncated but readable file is kept, and its warning is returned (once: cached rows are not decoded again)', async () => {
  const { utterances } = scratchCorpus('cut-short');
  const cut = utterances[0] as Utterance;
  const bytes = readFileSync(cut.path);
  writeFileSync(cut.path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const cacheDir = join(scratch, 'cache-cut-short');
  const result = await extractFeatures(utterances, { cacheDir });
  assert.equal(result.kept.length, 6);
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0] ?? '',
    new RegExp(`^decode: .*${cut.id.replace('.', '\\.')}: .*truncated.*decoded the \\d+\\.\\d+ s that are there$`),
  );
  assert.deepEqual((await extractFeatures(utterances, { cacheDir })).warnings, []);
});

test('a long WAV is read a chunk at a time with the same features and verdict as loading it whole (screened; an offset clip)', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  const dir = join(scratch, 'long');
  mkdirSync(join(dir, 'neutral'), { recursive: true });
  const actor = join(sharedDir, 'data', 'ravdess', 'Actor_02');
  const clips = await Promise.all(
    readdirSync(actor)
      .sort()
      .slice(0, 10)
      .map(async (name) => (await loadAudio(join(actor, name))).samples),
  );
  const joined = new Float32Array(clips.reduce((n, c) => n + c.length + 16000, 0));
  let at = 0;
  for (const clip of clips) {
    joined.set(clip, at);
    at += clip.length + 16000; // a second of silence after each
  }
  // Stereo 16-bit at 22.05 kHz: the chunked path mixes down and resamples as it goes.
  const stereo = resample(joined, 16000, 22050);
  const data = new Int16Array(stereo.length * 2);
  stereo.forEach((x, i) => {
    data[2 * i] = Math.round(Math.max(-1, Math.min(1, x)) * 32767);
    data[2 * i + 1] = Math.round(Math.max(-1, Math.min(1, 0.7 * x)) * 32767);
  });
  const long = join(dir, 'neutral', 'long.wav');
  const silent = join(dir, 'neutral', 'silent.wav');
  writeFileSync(long, simpleWav({ channels: 2, bits: 16, sampleRateHz: 22050 }, new Uint8Array(data.buffer)));
  writeFileSync(silent, simpleWav({ bits: 16, sampleRateHz: 16000 }, new Uint8Array(3 * 16000 * 2)));
  const utterances = loadCorpus({ dataset: 'folders', path: dir }).utterances;

  const whole = (await loadAudio(long)).samples;
  assert.ok(whole.length > 40 * 16000, `${whole.length / 16000} s`);
  const front = new LogMelFrontEnd({ topDb: null });
  const screened = await extractUtteranceLogMels(utterances, { maxS: 12, cacheDir: null, screen: true });
  assert.deepEqual(
    screened.kept.map((u) => u.path),
    [long],
  );
  assert.deepEqual(
    screened.failed.map((f) => [f.path, f.flag]),
    [[silent, 'no_speech']],
  );
  assert.deepEqual(screened.logMels[0]?.data, utteranceLogMel(front, whole, 12).data);
  const offset = await extractFeatures(utterances.slice(0, 1), { durationS: 3, offsetS: 30, cacheDir: null });
  assert.deepEqual(offset.features, clipLogMel(new LogMelFrontEnd(), whole, 3, 30));
});

test('worker threads give what the calling thread alone gives, to the bit: rows, cache files, skipped files, warnings, progress', {
  skip: !hasShared && 'needs ../shared (RAVDESS, nEMO)',
}, async () => {
  // Real clips of two corpora (two cache packs): RAVDESS WAVs (48 kHz, resampled), one cut short (kept, with a
  // warning), nEMO Opus; and files each path must skip with its own message: garbage bytes, a missing file, 2 s of
  // digital silence (screened out: no_speech). 10 files on 2 workers: more than the 4 in flight at once.
  const dir = join(scratch, 'jobs');
  mkdirSync(dir, { recursive: true });
  const ravdess = join(sharedDir, 'data', 'ravdess', 'Actor_01');
  const nemo = join(sharedDir, 'data', 'nemo', 'samples');
  const copy = (from: string, name: string) => {
    copyFileSync(join(from, name), join(dir, name));
    return join(dir, name);
  };
  const wavs = readdirSync(ravdess)
    .slice(0, 4)
    .map((name) => copy(ravdess, name));
  const opus = readdirSync(nemo)
    .slice(0, 2)
    .map((name) => copy(nemo, name));
  const cut = wavs[1] as string;
  writeFileSync(cut, readFileSync(cut).subarray(0, Math.floor(statSync(cut).size * 0.6)));
  const garbage = join(dir, 'garbage.wav');
  writeFileSync(garbage, 'RIFF, but not really a WAVE file at all');
  const silence = join(dir, 'silence.wav');
  writeFileSync(silence, simpleWav({ tag: 1, bits: 16, sampleRateHz: 16000 }, new Uint8Array(2 * 16000 * 2)));
  const missing = join(dir, 'missing.wav');
  const utterance = (path: string, corpus: 'ravdess' | 'nemo'): Utterance => ({ path, id: path, label: 'neutral', speaker: '', corpus });
  const utterances = [
    ...wavs.slice(0, 2).map((p) => utterance(p, 'ravdess')),
    utterance(garbage, 'ravdess'),
    ...opus.map((p) => utterance(p, 'nemo')),
    utterance(missing, 'ravdess'),
    utterance(silence, 'ravdess'),
    ...wavs.slice(2).map((p) => utterance(p, 'ravdess')),
    utterance(wavs[0] as string, 'nemo'),
  ];
  const kinds = {
    clips: (o: { cacheDir: string; jobs: number; onProgress: (done: number, total: number) => void }) =>
      extractFeatures(utterances, { ...o, screen: true, offsetS: 0.5 }),
    utterances: (o: { cacheDir: string; jobs: number; onProgress: (done: number, total: number) => void }) =>
      extractUtteranceLogMels(utterances, { ...o, screen: true, maxS: 4 }),
  };
  for (const [kind, extract] of Object.entries(kinds)) {
    const runs = [];
    for (const jobs of [0, 2]) {
      const cacheDir = join(scratch, `jobs-${kind}-${jobs}`);
      const progress: number[][] = [];
      const result = await extract({ cacheDir, jobs, onProgress: (done, total) => progress.push([done, total]) });
      const packs = readdirSync(cacheDir).map((name) => [name, readFileSync(join(cacheDir, name))]);
      runs.push({ result, progress, packs });
    }
    assert.deepEqual(runs[1], runs[0], kind);
    // What the runs hold is what the files are.
    const { result, packs } = runs[0] as (typeof runs)[number];
    assert.equal(packs.length, 2, kind);
    assert.deepEqual([result.computed, result.kept.length], [7, 7], kind);
    assert.deepEqual(
      result.failed.map((f) => [f.path, f.flag]),
      // Unreadable files first (found before any is decoded), as ever; then in input order.
      [
        [missing, undefined],
        [garbage, undefined],
        [silence, 'no_speech'],
      ],
      kind,
    );
    assert.match(result.failed[0]?.error ?? '', /cannot read \(ENOENT\)/);
    assert.match(result.failed[1]?.error ?? '', /garbage\.wav/);
    assert.equal(result.warnings.length, 1, kind);
    assert.match(result.warnings[0] ?? '', /truncated.*decoded the \d+\.\d+ s that are there$/);
  }
});

test('a jobs option other than a whole number >= 0 is an EARG naming it', async () => {
  await assert.rejects(extractFeatures([], { jobs: -1 }), {
    code: 'EARG',
    message: /jobs must be a whole number of worker threads >= 0 \(-1 given\)/,
  });
  await assert.rejects(extractUtteranceLogMels([], { maxS: 4, jobs: 1.5 }), { code: 'EARG', message: /\(1\.5 given\)/ });
});
