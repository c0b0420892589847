/**
 * src/web: a run's model.onnx and config.json in onnxruntime-web (its WebAssembly CPU backend, here under Node)
 * give the same probabilities as `ser predict` (onnxruntime-node, files read from disk) for the same recordings;
 * the module's import graph holds no Node API; bad inputs are refused with errors that say what is wrong; silence
 * and too-short audio are flagged, not classified, as by ser predict.
 * The run: `ser train` for one epoch on 24 embedded RAVDESS clips (4 emotions x actors 01-06, 1-second clips,
 * the small model).
 */
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeAudio, fromDecoded, voiceActivity } from '../../src/audio/index.js';
import { SerError } from '../../src/errors.js';
import { assetPath } from '../../src/io/paths.js';
import { type FlaggedPrediction, allPredicted, predictFiles, predictSegments } from '../../src/infer/inference.js';
import { EmotionRecognizer, type FlaggedRecording, type PcmAudio } from '../../src/web/index.js';
import { simpleWav } from '../audio/audio-helpers.js';
import { runCli } from '../cli/run-cli.js';
import { GENERALIZE_RECIPE } from '../../src/train/recipe.js';

const scratch = mkdtempSync(join(tmpdir(), 'ser-web-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const run = join(scratch, 'run');
let files: string[] = [];

before(async () => {
  const rows = readFileSync(assetPath('corpus', 'manifest.csv'), 'utf8').trim().split('\n');
  const picked = ['neutral', 'happy', 'sad', 'angry'].flatMap((emotion) =>
    ['01', '02', '03', '04', '05', '06'].map(
      (actor) => rows.find((row) => row.split(',')[1] === emotion && row.split(',')[2] === actor) as string,
    ),
  );
  const absolute = picked.map((row) => assetPath('corpus', row.split(',')[0] as string) + row.slice(row.indexOf(',')));
  const manifest = join(scratch, 'manifest.csv');
  writeFileSync(manifest, [rows[0], ...absolute].join('\n') + '\n');
  files = absolute.filter((_, i) => i % 8 === 0).map((row) => row.split(',')[0] as string);
  const args = ['train', '--data', manifest, '--dataset', 'csv', '--seed', '3', '--epochs', '1', '--out', run];
  const result = await runCli([
    ...args,
    '--size',
    'small',
    '--duration',
    '1',
    '--batch-size',
    '4',
    '--no-cache',
    '--threads',
    '1',
    '--progress',
    'lines',
  ]);
  assert.equal(result.code, 0, result.stderr);
});

const runFiles = () => ({
  model: readFileSync(join(run, 'model.onnx')),
  config: JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as unknown,
});

async function decoded(file: string): Promise<PcmAudio> {
  const audio = await decodeAudio(new Uint8Array(readFileSync(file)), file);
  return { channels: audio.channels, sampleRateHz: audio.sampleRateHz };
}

test("EmotionRecognizer (onnxruntime-web) gives ser predict's probabilities for the same recordings", async () => {
  const expected = allPredicted(await predictFiles(run, files, { threads: 1 }));
  const recognizer = await EmotionRecognizer.create(runFiles(), { threads: 1 });
  let worst = 0;
  try {
    assert.deepEqual([...recognizer.labels].sort(), ['angry', 'happy', 'neutral', 'sad']);
    for (const [i, file] of files.entries()) {
      const audio = await decoded(file);
      const web = await recognizer.classify(audio, file);
      assert.ok('label' in web, JSON.stringify(web));
      // The same samples as a WebAudio AudioBuffer would hand them over.
      const buffer = {
        numberOfChannels: audio.channels.length,
        sampleRate: audio.sampleRateHz,
        getChannelData: (c: number) => audio.channels[c] as Float32Array,
      };
      const fromBuffer = await recognizer.classify(buffer, file);
      const node = expected[i]!;
      assert.equal(web.label, node.label, file);
      assert.deepEqual(fromBuffer, web);
      for (const label of recognizer.labels) {
        const difference = Math.abs((web.probabilities[label] as number) - (node.probabilities[label] as number));
        worst = Math.max(worst, difference);
        assert.ok(difference < 1e-5, `${file} ${label}: web ${web.probabilities[label]} vs node ${node.probabilities[label]}`);
      }
      const sum = Object.values(web.probabilities).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
    }
    console.log(`web vs node over ${files.length} recordings: largest probability difference ${worst.toExponential(2)}`);
  } finally {
    await recognizer.release();
  }
});

test('classifySegments: each window is classified as that clip alone; the whole file as ser predict --segments does', async () => {
  const recognizer = await EmotionRecognizer.create(runFiles(), { threads: 1 });
  try {
    // Two recordings at the front end's rate (16 kHz), cut to exactly one clip length (1 s) and joined: with the
    // default hop each window is one of them, sample for sample.
    const clips = await Promise.all(
      files.slice(0, 2).map(async (file) => {
        const audio = await decoded(file);
        return fromDecoded({ channels: [...audio.channels], sampleRateHz: audio.sampleRateHz, format: 'pcm' }, file).samples.slice(
          0,
          16000,
        );
      }),
    );
    const joined = new Float32Array(32000);
    joined.set(clips[0] as Float32Array);
    joined.set(clips[1] as Float32Array, 16000);
    const whole = await recognizer.classifySegments({ channels: [joined], sampleRateHz: 16000 });
    assert.deepEqual(
      whole.segments.map((s) => [s.startS, s.endS]),
      [
        [0, 1],
        [1, 2],
      ],
    );
    for (const [i, clip] of clips.entries()) {
      const alone = await recognizer.classify({ channels: [clip], sampleRateHz: 16000 });
      assert.ok('label' in alone, JSON.stringify(alone));
      assert.deepEqual({ label: whole.segments[i]?.label, probabilities: whole.segments[i]?.probabilities }, alone);
    }
    const labels = recognizer.labels;
    const mean = labels.map((l) => ((whole.segments[0]?.probabilities[l] as number) + (whole.segments[1]?.probabilities[l] as number)) / 2);
    assert.equal(whole.label, labels[mean.indexOf(Math.max(...mean))]);

    // A whole recording, overlapping windows: the browser path and `ser predict --segments` (onnxruntime-node).
    const file = files[1] as string;
    const [node] = allPredicted(await predictSegments(run, [file], { hopS: 0.5, threads: 1 }));
    const web = await recognizer.classifySegments(await decoded(file), { hopS: 0.5, source: file });
    assert.ok(node && node.segments.length >= 3, `${node?.segments.length} windows`);
    assert.deepEqual(
      web.segments.map((s) => [s.startS, s.endS, s.label]),
      node.segments.map((s) => [s.startS, s.endS, s.label]),
    );
    // The trailing silence of the RAVDESS clip: the same windows flagged no_speech on both paths.
    assert.ok(node.flaggedSegments.length >= 1, JSON.stringify(node.flaggedSegments));
    assert.deepEqual(web.flaggedSegments, node.flaggedSegments);
    for (const [i, s] of web.segments.entries()) {
      for (const l of labels) assert.ok(Math.abs((s.probabilities[l] as number) - (node.segments[i]?.probabilities[l] as number)) < 1e-5);
    }
  } finally {
    await recognizer.release();
  }
});

test('src/web imports no Node API and not onnxruntime-node (it must bundle for browsers)', () => {
  const entry = fileURLToPath(new URL('../../src/web/index.js', import.meta.url));
  if (entry.endsWith('.ts')) return; // the walk reads compiled JS (npm test runs build/)
  const seen = new Set<string>();
  const external = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(
      /^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm,
    )) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) walk(resolve(dirname(file), specifier));
      else external.add(specifier);
    }
  };
  walk(entry);
  assert.ok(seen.size > 5, `walked ${seen.size} files`);
  const node = [...external].filter((s) => s.startsWith('node:') || builtinModules.includes(s) || s === 'onnxruntime-node');
  assert.deepEqual(node, [], `reachable from src/web: ${[...external].join(', ')}`);
  assert.ok(external.has('onnxruntime-web'));
});

test("EmotionRecognizer refuses a config that is not a run config, or not this model's, and bad audio, saying what is wrong", async () => {
  const { model, config } = runFiles();
  const code = (error: unknown) => (error instanceof SerError ? `${error.code}: ${error.message}` : String(error));
  await assert.rejects(EmotionRecognizer.create({ model, config: { format: 'speech-emotion run' } }), (e) =>
    /EFORMAT.*missing model, frontEnd/.test(code(e)),
  );
  await assert.rejects(EmotionRecognizer.create({ model, config: [] }), (e) => /EFORMAT.*JSON object expected/.test(code(e)));
  const wrongMels = { ...(config as object), frontEnd: { ...(config as { frontEnd: object }).frontEnd, nMels: 128 } };
  await assert.rejects(EmotionRecognizer.create({ model, config: wrongMels }), (e) => /EFORMAT.*128 mels.*64 mels.*same run/.test(code(e)));
  await assert.rejects(EmotionRecognizer.create({ model: new Uint8Array(100), config }), (e) =>
    /ERUNTIME.*cannot load the model \(100 bytes\)/.test(code(e)),
  );
  // A model trained with speaker normalisation needs a speaker's statistics, which the browser does not take.
  const speakerNormalised = { ...(config as object), recipe: { ...GENERALIZE_RECIPE, speakerNorm: true } };
  await assert.rejects(EmotionRecognizer.create({ model, config: speakerNormalised }), (e) =>
    /EARG.*speaker-level input normalisation.*web recognizer does not take them/s.test(code(e)),
  );

  const recognizer = await EmotionRecognizer.create({ model, config });
  try {
    const audio = await decoded(files[0] as string);
    const broken = Float32Array.from(audio.channels[0] as Float32Array);
    broken[100] = Number.NaN;
    await assert.rejects(recognizer.classify({ channels: [broken], sampleRateHz: audio.sampleRateHz }, 'mic'), (e) =>
      /EAUDIO.*mic: sample 100/.test(code(e)),
    );
    await assert.rejects(recognizer.classify({ channels: [new Float32Array(10), new Float32Array(9)], sampleRateHz: 16000 }, 'mic'), (e) =>
      /EARG.*mic: the channels differ in length \(10, 9/.test(code(e)),
    );
    await assert.rejects(recognizer.classify({ channels: [new Float32Array(10)], sampleRateHz: 0 }), (e) =>
      /EARG.*audio: the sample rate must be a positive integer/.test(code(e)),
    );
  } finally {
    await recognizer.release();
  }
});

test('classify flags silence and a 0.2 s clip as ser predict does (too_short / no_speech, the reason, no emotion)', async () => {
  const recognizer = await EmotionRecognizer.create(runFiles(), { threads: 1 });
  try {
    // Cut at 16 kHz from a real clip: its first 0.5 s (RAVDESS clips open with room silence before the actor speaks),
    // 0.2 s of its speech, the whole clip for contrast, and the clip after 13 s of silence; each also written as a
    // float WAV for ser predict.
    const file = files[0] as string;
    const audio = await decoded(file);
    const clip = fromDecoded({ channels: [...audio.channels], sampleRateHz: audio.sampleRateHz, format: 'pcm' }, file).samples;
    const active = voiceActivity(clip, 16000).active;
    const firstActive = active.indexOf(1) * 320;
    assert.ok(firstActive >= 0.5 * 16000, `speech starts at ${firstActive / 16000} s`);
    const cuts = {
      silence: clip.slice(0, 0.5 * 16000),
      short: clip.slice(firstActive, firstActive + 0.2 * 16000),
      speech: clip,
      // Speech only after 13 s: past the 12 s the model reads, so both paths judge what the model hears (no speech).
      late: Float32Array.from([...new Float32Array(13 * 16000), ...clip]),
    };
    const paths = Object.entries(cuts).map(([name, samples]) => {
      const path = join(scratch, `${name}.wav`);
      writeFileSync(path, simpleWav({ tag: 3, bits: 32, sampleRateHz: 16000 }, new Uint8Array(samples.buffer)));
      return path;
    });
    const node = await predictFiles(run, paths, { threads: 1 });
    const web = await Promise.all(
      Object.values(cuts).map((samples) => recognizer.classify({ channels: [samples], sampleRateHz: 16000 }, 'mic')),
    );
    assert.deepEqual(
      web.map((r) => ('flag' in r ? r.flag : r.label)),
      ['no_speech', 'too_short', (node[2] as { label: string }).label, 'no_speech'],
    );
    assert.deepEqual(Object.keys(web[0] as object).sort(), ['flag', 'reason']);
    // The same verdict and reason as predictFiles for the same samples; only `file` differs.
    for (const i of [0, 1, 3]) {
      const { file: _, ...rest } = node[i] as FlaggedPrediction;
      assert.deepEqual(web[i], rest);
    }
    assert.match((web[1] as FlaggedRecording).reason, /0\.200 s of audio; at least 0\.5 s is needed/);
  } finally {
    await recognizer.release();
  }
});
