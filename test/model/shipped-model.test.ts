/**
 * Graph drift of the shipped default model: assets/models/default/model.onnx holds only its weights and the graph
 * the eval builder (src/model/cnn-tm.ts buildEvalGraph, or src/model/ensemble.ts for an ensemble) made when it was
 * written. Rebuilt from its own weights with the current builders (rebuildModelOnnx: what
 * scripts/rebuild-model-onnx.ts does), it must give the same
 * probabilities on real speech (log-mel windows of RAVDESS and CREMA-D clips of assets/corpus, within 1e-6) and the
 * same bytes (the builder is deterministic: measured identical, 2026-12-04). A builder change that is not followed
 * by a rebuild fails here with the command to run.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadAudio } from '../../src/audio/index.js';
import { SerError } from '../../src/errors.js';
import { assetPath } from '../../src/io/paths.js';
import { defaultModelDir } from '../../src/infer/inference.js';
import { RecordingInputs } from '../../src/infer/model-use.js';
import { evalOnnxState } from '../../src/model/cnn-tm.js';
import { rebuildModelOnnx } from '../../src/model/ensemble.js';
import { createSession } from '../../src/runtime/index.js';
import type { Session } from '../../src/runtime/types.js';
import { MODEL_FILE } from '../../src/train/run-config.js';
import { readRunConfig } from '../../src/train/run-dir.js';
import { maxAbsDiff } from '../helpers.js';

/** Both models run on onnxruntime-node with one thread: the same kernels, so any difference is the graph's. */
const TOLERANCE = 1e-6;
const REBUILD =
  'the eval graph builder changed since the shipped model was built: run `npx tsx scripts/rebuild-model-onnx.ts assets/models/default` and commit the model';
const config = readRunConfig(defaultModelDir());
const shipped = new Uint8Array(readFileSync(join(defaultModelDir(), MODEL_FILE)));
const clips = ['crema-d/1001_DFA_ANG_XX.opus', 'ravdess/Actor_02/03-01-05-01-02-01-02.opus', 'ravdess/Actor_04/03-01-06-02-01-02-04.opus'];

async function probabilities(session: Session, windows: Float32Array, count: number): Promise<Float32Array> {
  const { nMels, frames } = config.model;
  const out = await session.run({ mel: { data: windows, shape: [count, 1, nMels, frames] } }, ['probabilities']);
  return out.probabilities?.data as Float32Array;
}

test(`the shipped model rebuilt from its own weights with the current builder: same probabilities (within ${TOLERANCE}) and bytes`, async () => {
  const rebuilt = rebuildModelOnnx(shipped, config.model, config.ensemble?.members.length);
  const inputs = new RecordingInputs(config);
  const sessions = [await createSession(shipped, { threads: 1 }), await createSession(rebuilt, { threads: 1 })] as const;
  try {
    let worst = 0;
    for (const clip of clips) {
      const { samples } = await loadAudio(assetPath('corpus', clip), { sampleRateHz: config.frontEnd.sampleRateHz });
      const { windows, count } = inputs.of(samples);
      const [before, after] = [await probabilities(sessions[0], windows, count), await probabilities(sessions[1], windows, count)];
      assert.equal(before.length, count * config.labels.length);
      worst = Math.max(worst, maxAbsDiff(before, after));
    }
    console.log(`shipped vs rebuilt model.onnx on ${clips.length} clips: largest probability difference ${worst.toExponential(2)}`);
    assert.ok(worst <= TOLERANCE, `probabilities differ by up to ${worst.toExponential(2)}: ${REBUILD}`);
  } finally {
    for (const session of sessions) await session.release();
  }
  assert.ok(
    rebuilt.byteLength === shipped.byteLength && rebuilt.every((b, i) => b === shipped[i]),
    `the rebuilt model.onnx differs from the shipped one (${rebuilt.byteLength} vs ${shipped.byteLength} bytes): ${REBUILD}`,
  );
});

test('evalOnnxState names every weight a model.onnx lacks for the config', () => {
  const wider = { ...config.model, nClasses: config.model.nClasses + 1, ffDim: config.model.ffDim * 2 };
  assert.throws(
    () => evalOnnxState(shipped, wider, config.ensemble ? 'member0' : undefined),
    (error: unknown) =>
      error instanceof SerError &&
      error.code === 'EFORMAT' &&
      /'fc\.weight' is \[6, 128\], expected \[7, 128\]/.test(error.message) &&
      /'enc\.layers\.5\.linear1\.weight' is \[512, 128\], expected \[1024, 128\]/.test(error.message),
  );
});
