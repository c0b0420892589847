/**
 * trainRun (src/train/run.ts) end to end on a corpus folder with two unusable files among real speech (issue 12):
 * digital silence and a 0.2 s cut are left out of the split and of training by the rule ser predict applies
 * (src/audio/vad.ts), the log says how many and which, metrics.json counts them. 16 RAVDESS clips from ../shared
 * (4 emotions x actors 01-04, 16 kHz WAV) in class folders; the small model on 1-second clips, one epoch. The temp
 * file a crashed process left in the run folder is removed, a live process's is not.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { trainRun } from '../../src/train/run.js';
import { simpleWav } from '../audio/audio-helpers.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { hasShared, ravdessClassFolders, repoRoot } from '../helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-train-run-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** 16 RAVDESS clips (4 emotions x actors 01-04, 16 kHz WAV) in class folders under scratch/`name`. */
const fourClasses = (name: string) =>
  ravdessClassFolders(join(scratch, name), { neutral: '01', happy: '03', sad: '04', angry: '05' }, ['01', '02', '03', '04']);

/** The small model on 1-second clips, no feature cache, one thread, quiet. */
const SMALL_RUN = { size: 'small', durationS: 1, cacheDir: null, threads: 1, progress: 'none' } as const;

const floatWav = (samples: Float32Array) => simpleWav({ tag: 3, bits: 32, sampleRateHz: 16000 }, new Uint8Array(samples.buffer));

test('ser train leaves out silent and too-short files (counted and named in the log, in metrics.json, in no part of the split) and sweeps stale temp files', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  const corpus = fourClasses('corpus');
  const speech = (await loadAudio(join(corpus, 'happy', '03-01-03-01-01-01-01.wav'))).samples;
  const silent = join(corpus, 'neutral', 'silent.wav');
  const short = join(corpus, 'happy', 'short.wav');
  writeFileSync(silent, floatWav(new Float32Array(2 * 16000)));
  writeFileSync(short, floatWav(speech.slice(1.5 * 16000, 1.7 * 16000)));
  const broken = join(corpus, 'sad', 'broken.wav'); // not audio: a decode failure, reported apart
  writeFileSync(broken, 'RIFF but not a WAV file');

  // The run folder holds the temp files of a crashed process (gone) and of a live one: the first is swept.
  const out = join(scratch, 'run');
  mkdirSync(out);
  const dead = spawnSync('true').pid as number;
  const live = spawn('sleep', ['60']);
  const stale = join(out, `checkpoint.safetensors.tmp-${dead}`);
  const busy = join(out, `notes.json.tmp-${live.pid}`);
  writeFileSync(stale, 'half a checkpoint');
  writeFileSync(busy, 'being written');

  const lines: string[] = [];
  const result = await trainRun({
    out,
    data: { dataset: 'folders', path: corpus },
    ...SMALL_RUN,
    hyper: { epochs: 1, batchSize: 4 },
    log: (line) => lines.push(line),
  }).finally(() => live.kill());
  assert.ok(lines.includes(`removed 1 temp file(s) left by processes that are gone: ${stale}`), lines.join('\n'));
  assert.ok(!existsSync(stale) && existsSync(busy));
  assert.ok(result.report, 'the run finished');
  const line = lines.find((l) => l.startsWith('excluded '));
  assert.ok(line, lines.join('\n'));
  assert.match(line, /^excluded 2 of 19 files as unusable \(no speech, or under 0\.5 s/);
  assert.ok(line.includes(`${silent} (no_speech)`) && line.includes(`${short} (too_short)`), line);
  const skipped = lines.filter((l) => / files skipped: /.test(l));
  assert.equal(skipped.length, 1, lines.join('\n'));
  assert.match(skipped[0] as string, /^1 of 19 files skipped: /, 'the count of all files, screened ones included');
  assert.ok(skipped[0]?.includes(broken), skipped[0]);

  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { unusable_excluded: number };
  assert.equal(metrics.unusable_excluded, 2);
  const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { parts: Record<string, string[]> };
  const ids = Object.values(split.parts).flat();
  assert.equal(ids.length, 16);
  assert.ok(!ids.some((id) => /silent|short|broken/.test(id)), ids.join(', '));
});

test('--split-seed: runs of different seeds share the split of their split seed, and train from other initial weights', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  const corpus = fourClasses('corpus-split-seed');
  const run = async (name: string, seeds: { seed: number; splitSeed?: number }) => {
    const out = join(scratch, name);
    const lines: string[] = [];
    await trainRun({
      out,
      data: { dataset: 'folders', path: corpus },
      ...seeds,
      ...SMALL_RUN,
      hyper: { epochs: 1, batchSize: 4 },
      log: (line) => lines.push(line),
    });
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8'));
    return {
      split: read('split.json') as { seed: number; parts: Record<string, string[]> },
      config: read('config.json') as { seed: number; split: { seed?: number } },
      trainLoss: (JSON.parse(readFileSync(join(out, 'history.jsonl'), 'utf8').split('\n')[0] as string) as { train_loss: number })
        .train_loss,
      lines,
    };
  };
  const seed0 = await run('seed0', { seed: 0 });
  const seed1 = await run('seed1', { seed: 1 });
  const seed1split0 = await run('seed1-split0', { seed: 1, splitSeed: 0 });

  assert.notDeepEqual(seed1.split.parts, seed0.split.parts, 'another seed, another split (the check below can fail)');
  assert.deepEqual(seed1split0.split.parts, seed0.split.parts);
  assert.equal(seed1split0.split.seed, 0);
  assert.deepEqual([seed1split0.config.seed, seed1split0.config.split.seed], [1, 0]);
  assert.equal(seed0.config.split.seed, undefined, 'recorded only when it differs from the seed');
  assert.ok(
    seed1split0.lines.some((l) => l.startsWith('split random-stratified (seed 0)')),
    seed1split0.lines.join('\n'),
  );
  assert.notEqual(seed1split0.trainLoss, seed0.trainLoss, 'the seed still sets the initial weights, shuffling and dropout');
});

test('--split-file: a run trains and tests on the parts of a given split, and says where it came from', {
  skip: !hasShared && 'needs ../shared (RAVDESS)',
}, async () => {
  const corpus = fourClasses('corpus-split-file');
  const run = async (name: string, options: { seed: number; splitFile?: string }) => {
    const out = join(scratch, name);
    const lines: string[] = [];
    await trainRun({
      out,
      data: { dataset: 'folders', path: corpus },
      ...options,
      ...SMALL_RUN,
      hyper: { epochs: 1, batchSize: 4 },
      log: (line) => lines.push(line),
    });
    const read = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8'));
    return {
      split: read('split.json') as { parts: Record<string, string[]> },
      config: read('config.json') as { split: { file?: string } },
      lines,
    };
  };
  const first = await run('split-made', { seed: 0 });
  const given = join(scratch, 'split-made', 'split.json');
  const second = await run('split-given', { seed: 1, splitFile: given });
  const another = await run('split-seed1', { seed: 1 });
  assert.notDeepEqual(another.split.parts, first.split.parts, 'seed 1 alone makes another split (the check below can fail)');
  assert.deepEqual(second.split.parts, first.split.parts);
  assert.equal(second.config.split.file, given);
  assert.ok(
    second.lines.some((l) => l.startsWith(`split random-stratified (given in ${given}): train 9, validation 2, test 5;`)),
    second.lines.join('\n'),
  );
  assert.equal(first.config.split.file, undefined);

  // A split that does not fit the corpus is refused before any features are computed.
  const wrong = JSON.parse(readFileSync(given, 'utf8')) as { parts: Record<string, string[]> };
  wrong.parts.train?.push('angry/not-here.wav');
  const wrongFile = join(scratch, 'wrong-split.json');
  writeFileSync(wrongFile, JSON.stringify(wrong));
  const lines: string[] = [];
  await assert.rejects(
    trainRun({
      out: join(scratch, 'split-wrong'),
      data: { dataset: 'folders', path: corpus },
      seed: 0,
      splitFile: wrongFile,
      ...SMALL_RUN,
      log: (line) => lines.push(line),
    }),
    { code: 'EDATA', message: /wrong-split\.json: 1 of its 17 recordings are not in the corpora given \(e\.g\. angry\/not-here\.wav\)/ },
  );
  assert.ok(!lines.some((l) => l.startsWith('features:')), lines.join('\n'));
});

/**
 * A manifest of 36 RAVDESS clips of the embedded corpus (every third of actors 01-03 in the six classes) under
 * scratch/`name`; `withSpeakers: false` keeps only the path and label columns (recordings without a speaker).
 */
function threeActorManifest(name: string, withSpeakers = true): string {
  const manifest = join(scratch, name);
  const rows = readFileSync(join(repoRoot, 'assets', 'corpus', 'manifest.csv'), 'utf8')
    .trim()
    .split('\n');
  const six = rows.slice(1).filter((row) => /,(neutral|happy|sad|angry|fearful|disgust),/.test(row) && /Actor_0[123]\//.test(row));
  const picked = six
    .filter((_, i) => i % 3 === 0)
    .slice(0, 36)
    .map((row) => join(repoRoot, 'assets', 'corpus', row));
  const columns = (row: string) => (withSpeakers ? row : row.split(',').slice(0, 2).join(','));
  writeFileSync(manifest, [rows[0] as string, ...picked].map(columns).join('\n') + '\n');
  return manifest;
}

test('--corpus-adversarial on two real corpora: the corpus loss is recorded, the head is training state only, one corpus is refused', async () => {
  // The 36 RAVDESS clips of threeActorManifest and the 12 CREMA-D sample clips.
  const manifest = threeActorManifest('adversarial.csv');
  const data = [
    { dataset: 'csv' as const, path: manifest },
    { dataset: 'crema-d' as const, path: join(repoRoot, 'assets', 'corpus', 'crema-d') },
  ];
  const out = join(scratch, 'adversarial');
  const lines: string[] = [];
  const result = await trainRun({
    out,
    data,
    ...SMALL_RUN,
    hyper: { epochs: 2, batchSize: 4, corpusAdversarial: 1 },
    log: (line) => lines.push(line),
  });
  assert.ok(result.report, 'the run finished');
  assert.ok(
    lines.some((l) => l.includes('corpus-adversarial head (gradient reversal up to 1)')),
    lines.join('\n'),
  );
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { hyper: { corpusAdversarial?: number } };
  assert.equal(config.hyper.corpusAdversarial, 1);
  const history = readFileSync(join(out, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { train_loss: number; train_corpus_loss?: number });
  assert.equal(history.length, 2);
  for (const record of history) {
    // Two corpora: an untrained head is near ln 2; the emotion term alone near ln 6.
    assert.ok(
      record.train_corpus_loss !== undefined && record.train_corpus_loss > 0.2 && record.train_corpus_loss < 1.5,
      JSON.stringify(record),
    );
    assert.ok(record.train_loss > 1 && record.train_loss < 3, JSON.stringify(record));
  }
  const best = readSafetensors(join(out, 'best.safetensors')).tensors;
  assert.ok(best.has('corpus_head.2.weight'), 'the head is in the training state');
  const model = readFileSync(join(out, 'model.onnx'));
  assert.ok(!model.includes('corpus_head'), 'model.onnx has no corpus head');
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('the emotion term alone'), 'the report says what its loss curve is');

  await assert.rejects(
    trainRun({
      out: join(scratch, 'adversarial-one'),
      data: data[1],
      ...SMALL_RUN,
      hyper: { epochs: 1, batchSize: 4, corpusAdversarial: 1 },
    }),
    /corpus-adversarial training needs recordings of at least 2 corpora in the training part/,
  );
});

test('--speaker-adversarial: the head classifies the training speakers, is training state only; recordings without a speaker are refused', async () => {
  const out = join(scratch, 'speaker-adversarial');
  const lines: string[] = [];
  await trainRun({
    out,
    data: { dataset: 'csv', path: threeActorManifest('speakers.csv') },
    ...SMALL_RUN,
    hyper: { epochs: 2, batchSize: 4, corpusAdversarial: 1, adversary: 'speaker' },
    log: (line) => lines.push(line),
  });
  assert.ok(
    lines.some((l) => l.includes('speaker-adversarial head (gradient reversal up to 1)')),
    lines.join('\n'),
  );
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
    hyper: { corpusAdversarial?: number; adversary?: string };
  };
  assert.deepEqual([config.hyper.corpusAdversarial, config.hyper.adversary], [1, 'speaker']);
  // One output per speaker of the training part (the random split keeps each of the three actors there).
  const split = JSON.parse(readFileSync(join(out, 'split.json'), 'utf8')) as { parts: { train: string[] } };
  const speakers = new Set(split.parts.train.map((id) => /Actor_(\d\d)\//.exec(id)?.[1]));
  assert.deepEqual([...speakers].sort(), ['01', '02', '03']);
  const best = readSafetensors(join(out, 'best.safetensors')).tensors;
  assert.deepEqual(best.get('corpus_head.2.weight')?.shape, [3, 64]);
  assert.ok(!readFileSync(join(out, 'model.onnx')).includes('corpus_head'), 'model.onnx has no adversarial head');
  const history = readFileSync(join(out, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { train_corpus_loss?: number });
  for (const record of history) {
    // Three speakers: an untrained head is near ln 3 = 1.10.
    assert.ok(
      record.train_corpus_loss !== undefined && record.train_corpus_loss > 0.3 && record.train_corpus_loss < 2.5,
      JSON.stringify(record),
    );
  }
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('the speaker classifier'), 'the report names the head');

  await assert.rejects(
    trainRun({
      out: join(scratch, 'speaker-adversarial-unknown'),
      data: { dataset: 'csv', path: threeActorManifest('no-speakers.csv', false) },
      ...SMALL_RUN,
      hyper: { epochs: 1, batchSize: 4, corpusAdversarial: 1, adversary: 'speaker' },
    }),
    {
      code: 'EARG',
      message:
        /speaker-adversarial training needs every training recording's speaker, and \d+ have none \(e\.g\. .*Actor_0[123]\/.*\.opus\)/,
    },
  );
  await assert.rejects(
    trainRun({
      out: join(scratch, 'adversary-alone'),
      data: { dataset: 'csv', path: threeActorManifest('speakers.csv') },
      ...SMALL_RUN,
      hyper: { epochs: 1, batchSize: 4, adversary: 'speaker' },
    }),
    /an adversary \('speaker'\) needs the adversarial head's strength/,
  );
});
