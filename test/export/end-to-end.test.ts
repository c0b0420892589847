/**
 * The end-to-end ONNX model (src/export/end-to-end.ts) of the shipped default model gives `ser predict`'s
 * probabilities for the same real speech (CREMA-D and RAVDESS clips of assets/corpus, a 16 s recording past the
 * 12 s the recipe reads, a 0.4 s one shorter than a window, a 300-sample one shorter than the STFT frame), on
 * onnxruntime-node and onnxruntime-web; rows of a batch equal each row alone; the other input policies (no
 * trimming, silence fill, one crop, runs made before recipes) equal RecordingInputs through the plain model.onnx.
 * Tolerance: probabilities within 1e-5 (measured 8e-7 on 13 RAVDESS/CREMA-D recordings, 2026-12-04): the
 * graph's float32 DFT differs from the FFT by ~1e-3 dB (test/features/graph.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { endToEndModel } from '../../src/export/index.js';
import { assetPath } from '../../src/io/paths.js';
import { createSession } from '../../src/runtime/index.js';
import { createWebSession } from '../../src/runtime/ort-web.js';
import type { Session } from '../../src/runtime/types.js';
import { allPredicted, defaultModelDir, predictFiles } from '../../src/infer/inference.js';
import { RecordingInputs, recordingProbabilities } from '../../src/infer/model-use.js';
import type { RunConfig } from '../../src/train/run-config.js';
import { readRunConfig } from '../../src/train/run-dir.js';
import { runCli } from '../cli/run-cli.js';
import { maxAbsDiff } from '../helpers.js';

const TOLERANCE = 1e-5;
const scratch = mkdtempSync(join(tmpdir(), 'ser-export-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const config = readRunConfig(defaultModelDir());
const plainModel = new Uint8Array(readFileSync(join(defaultModelDir(), 'model.onnx')));
const speechFiles = [
  'crema-d/1001_DFA_ANG_XX.opus',
  'crema-d/1001_DFA_SAD_XX.opus',
  'ravdess/Actor_01/03-01-01-01-01-01-01.opus',
  'ravdess/Actor_02/03-01-05-01-02-01-02.opus',
  'ravdess/Actor_03/03-01-04-02-01-02-03.opus',
].map((f) => assetPath('corpus', f));
const recordings = new Map<string, Float32Array>();

before(async () => {
  for (const file of speechFiles) recordings.set(file, (await loadAudio(file, { sampleRateHz: 16000 })).samples);
  const all = [...recordings.values()];
  // 16 s of speech (longer than the recipe's maxS 12 s), 0.4 s (shorter than a 3 s window), 300 samples.
  const long = new Float32Array(16 * 16000);
  for (let at = 0, i = 0; at < long.length; at += all[i % all.length]!.length, i++)
    long.set(all[i % all.length]!.subarray(0, long.length - at), at);
  recordings.set('long-16s', long);
  recordings.set('short-0.4s', all[0]!.slice(8000, 8000 + 6400));
  recordings.set('tiny-300', all[1]!.slice(12000, 12300));
});

async function run(session: Session, samples: Float32Array, batch = 1): Promise<Float32Array> {
  const data = new Float32Array(batch * samples.length);
  for (let b = 0; b < batch; b++) data.set(samples, b * samples.length);
  const out = await session.run({ waveform: { data, shape: [batch, samples.length] } });
  assert.deepEqual(out.probabilities?.shape, [batch, config.labels.length]);
  const logits = out.logits?.data as Float32Array;
  const probabilities = out.probabilities?.data as Float32Array;
  assert.ok(maxAbsDiff(Float32Array.from(logits, Math.exp), probabilities) < 1e-6, 'logits are log-probabilities');
  return probabilities;
}

/** RecordingInputs under `variant` through the plain model.onnx: what every Node path computes. */
async function expected(variant: RunConfig, samples: Float32Array, model: Session): Promise<Float32Array> {
  const { windows, count } = new RecordingInputs(variant).of(samples);
  const { nMels, frames } = variant.model;
  const probabilities = async (x: Float32Array, n: number) =>
    (await model.run({ mel: { data: x, shape: [n, 1, nMels, frames] } }, ['probabilities'])).probabilities?.data as Float32Array;
  return recordingProbabilities(windows, [count], variant.labels.length, probabilities, 8);
}

describe('end-to-end ONNX model (waveform in)', () => {
  it(`equals ser predict on real speech within ${TOLERANCE} (onnxruntime-node), rows of a batch as alone`, async () => {
    const session = await createSession(endToEndModel(plainModel, config), { threads: 1 });
    try {
      const names = speechFiles;
      const predicted = allPredicted(await predictFiles(undefined, names, { threads: 1 }));
      let worst = 0;
      for (const [i, file] of names.entries()) {
        const ours = await run(session, recordings.get(file)!);
        const reference = Float32Array.from(config.labels, (l) => predicted[i]!.probabilities[l]!);
        worst = Math.max(worst, maxAbsDiff(ours, reference));
        assert.equal(config.labels[ours.indexOf(Math.max(...ours))], predicted[i]!.label, file);
      }
      const plain = await createSession(plainModel, { threads: 1 });
      try {
        for (const name of ['long-16s', 'short-0.4s', 'tiny-300']) {
          const ours = await run(session, recordings.get(name)!);
          worst = Math.max(worst, maxAbsDiff(ours, await expected(config, recordings.get(name)!, plain)));
        }
      } finally {
        await plain.release();
      }
      assert.ok(worst < TOLERANCE, `largest probability difference ${worst}`);
      console.log(`end-to-end vs ser predict, ${names.length + 3} recordings: largest probability difference ${worst.toExponential(2)}`);
      const one = await run(session, recordings.get(speechFiles[0]!)!);
      const three = await run(session, recordings.get(speechFiles[0]!)!, 3);
      for (let b = 0; b < 3; b++) assert.ok(maxAbsDiff(three.subarray(b * one.length, (b + 1) * one.length), one) < 1e-6);
    } finally {
      await session.release();
    }
  });

  it('other input policies and runs made before recipes equal RecordingInputs', async () => {
    const recipe = config.recipe!;
    const variants: Array<[string, RunConfig]> = [
      [
        'untrimmed, silence fill, 1 crop (the paper clip)',
        { ...config, recipe: { ...recipe, input: { maxS: 12, trimDb: null, fill: 'silence', crops: 1 } } },
      ],
      [
        'trimmed 30 dB, silence fill, 4 crops',
        { ...config, recipe: { ...recipe, input: { maxS: 8, trimDb: 30, fill: 'silence', crops: 4 } } },
      ],
      ['untrimmed, repeat, 2 crops', { ...config, recipe: { ...recipe, input: { maxS: 12, trimDb: null, fill: 'repeat', crops: 2 } } }],
      ['before recipes (first 3 s clip)', { ...config, recipe: undefined }],
    ];
    const plain = await createSession(plainModel, { threads: 1 });
    try {
      for (const [what, variant] of variants) {
        const session = await createSession(endToEndModel(plainModel, variant), { threads: 1 });
        try {
          for (const name of [speechFiles[2]!, 'long-16s', 'short-0.4s']) {
            const samples = recordings.get(name)!;
            const difference = maxAbsDiff(await run(session, samples), await expected(variant, samples, plain));
            assert.ok(difference < TOLERANCE, `${what}, ${name}: ${difference}`);
          }
        } finally {
          await session.release();
        }
      }
    } finally {
      await plain.release();
    }
  });

  it('onnxruntime-web runs the same file to the same probabilities', async () => {
    const bytes = endToEndModel(plainModel, config);
    const node = await createSession(bytes, { threads: 1 });
    const web = await createWebSession(bytes, { threads: 1 });
    try {
      for (const name of [speechFiles[0]!, 'long-16s']) {
        const difference = maxAbsDiff(await run(web, recordings.get(name)!), await run(node, recordings.get(name)!));
        assert.ok(difference < TOLERANCE, `${name}: web vs node ${difference}`);
      }
    } finally {
      await node.release();
      await web.release();
    }
  });

  it('ser export writes the end-to-end model, or the plain model.onnx byte for byte', async () => {
    const out = join(scratch, 'e2e.onnx');
    const result = await runCli(['export', '--end-to-end', '--out', out]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /input waveform \[batch, samples\] float32 -> probabilities, logits/);
    const session = await createSession(readFileSync(out), { threads: 1 });
    assert.deepEqual([session.inputNames, session.outputNames], [['waveform'], ['probabilities', 'logits']]);
    await session.release();
    const plainOut = join(scratch, 'plain.onnx');
    assert.equal((await runCli(['export', '--out', plainOut])).code, 0);
    assert.deepEqual(new Uint8Array(readFileSync(plainOut)), plainModel);
    const missing = await runCli(['export', '--model', join(scratch, 'nope'), '--out', out]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope/);
  });
});
