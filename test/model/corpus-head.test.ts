/**
 * Corpus-adversarial training (src/model/corpus-head.ts): the gradient-reversal layer by hand; the training graph
 * with the head (its loss is the plain graph's plus the corpus term, the trunk's gradients are the plain ones at
 * lambda 0 and move linearly in lambda, the emotion classifier's and the head's do not depend on lambda); the
 * trainer (the trunk starts as without the head, the head never reaches model.onnx, bad targets are refused).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph, gradients, mul, reduceSum, toOnnx } from '../../src/graph/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import type { NamedTensor } from '../../src/io/safetensors.js';
import { PAPER_CNN_TM, type CnnTmConfig, stateLayout } from '../../src/model/config.js';
import { CORPUS_HEAD_PREFIX, corpusHeadInitialState, gradientReversal, reversalStrength } from '../../src/model/corpus-head.js';
import { EXP_AVG, EXP_AVG_SQ, GRAD, buildTrainGraph, trainingLayout } from '../../src/model/train-graph.js';
import { CnnTmTrainer, OPTIMIZER_PREFIX } from '../../src/model/trainer.js';
import { initialState } from '../../src/model/weights.js';
import type { HostTensor } from '../../src/runtime/index.js';
import { createSession } from '../../src/runtime/index.js';
import { sizeOf } from '../../src/shape.js';
import { hasShared, maxAbsDiff, sharedDir } from '../helpers.js';

const SMALL: CnnTmConfig = { ...PAPER_CNN_TM, nMels: 64, dModel: 64, layers: 2, heads: 4, ffDim: 128, dropout: 0, frames: 64 };
const skipShared = hasShared ? false : 'needs ../shared/golden';

test('gradient reversal: the input unchanged forward, the gradient times -lambda backward', async () => {
  const g = new Graph();
  const x = g.input('x', [3]);
  const lambda = g.input('lambda', []);
  const y = gradientReversal(x, lambda);
  // loss = sum(c * R(x)) with c = (1, 2, 3): d loss / dx = -lambda c
  const loss = reduceSum(mul(y, g.constant(Float32Array.of(1, 2, 3), [3], 'float32', 'c')), [0]);
  const [dx] = gradients(loss, [x]);
  g.output('y', y);
  g.output('dx', dx!);
  const session = await createSession(toOnnx(g), { threads: 1 });
  try {
    const xs = Float32Array.of(0.1, -2.5, 1e-7);
    const out = await session.run({ x: { data: xs, shape: [3] }, lambda: { data: Float32Array.of(0.7), shape: [] } });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), Array.from(xs), 'exactly x');
    assert.deepEqual(Array.from(out.dx!.data as Float32Array), [-0.7, -1.4, -2.1].map(Math.fround));
  } finally {
    await session.release();
  }
});

test('the DANN schedule: 0 at the start, max (2 / (1 + e^-10) - 1 of it) at the end, rising in between', () => {
  assert.equal(reversalStrength(1, 0), 0);
  assert.ok(Math.abs(reversalStrength(0.5, 1) - 0.5 * (2 / (1 + Math.exp(-10)) - 1)) < 1e-15);
  assert.ok(Math.abs(reversalStrength(1, 0.1) - 0.46211715726000974) < 1e-12); // tanh(0.5)
});

test('train graph with the corpus head: loss = plain loss + corpus term; trunk gradients plain at lambda 0, linear in lambda', {
  skip: skipShared,
}, async () => {
  const golden = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors')).tensors;
  const mel = golden.get('input') as NamedTensor; // real log-mels of 4 clips
  const batch = mel.shape[0] as number;
  const corpora = 3;
  const labels = [0, 3, 5, 1];
  const corpusOf = [0, 2, 1, 2];
  const state = new Map([...initialState(SMALL, 4), ...corpusHeadInitialState(SMALL.dModel, corpora, 4)]);

  const run = async (withHead: boolean, lambda: number): Promise<Record<string, HostTensor>> => {
    const width = SMALL.nClasses + (withHead ? corpora : 0);
    const targets = new Float32Array(batch * width);
    labels.forEach((label, i) => {
      targets[i * width + label] = 1;
      if (withHead) targets[i * width + SMALL.nClasses + (corpusOf[i] as number)] = 1;
    });
    const graph = buildTrainGraph(SMALL, { batch, exposeGradients: true, ...(withHead ? { corpora } : {}) });
    const feeds: Record<string, HostTensor> = {
      mel,
      targets: { data: targets, shape: [batch, width] },
      step: { data: Float64Array.of(1), shape: [] },
      lr: { data: Float64Array.of(1e-3), shape: [] },
    };
    if (withHead) feeds.reversal = { data: Float32Array.of(lambda), shape: [] };
    for (const entry of trainingLayout(SMALL, withHead ? corpora : undefined)) {
      feeds[entry.name] = state.get(entry.name) as NamedTensor;
      if (entry.role === 'parameter') {
        const zeros = { data: new Float32Array(sizeOf(entry.shape)), shape: entry.shape };
        feeds[EXP_AVG + entry.name] = zeros;
        feeds[EXP_AVG_SQ + entry.name] = zeros;
      }
    }
    const session = await createSession(toOnnx(graph), { threads: 1 });
    try {
      return await session.run(feeds);
    } finally {
      await session.release();
    }
  };
  const plain = await run(false, 0);
  const [at0, at1, at2] = [await run(true, 0), await run(true, 1), await run(true, 2)];
  const f32 = (out: Record<string, HostTensor>, name: string) => out[name]?.data as Float32Array;
  const scalar = (out: Record<string, HostTensor>, name: string) => f32(out, name)[0] as number;

  const corpusLoss = scalar(at1, 'corpus_loss');
  assert.ok(Math.abs(corpusLoss - Math.log(corpora)) < 0.5, `an untrained head is near chance (${corpusLoss} vs ln 3)`);
  for (const out of [at0, at1, at2]) {
    assert.ok(Math.abs(scalar(out, 'loss') - scalar(out, 'corpus_loss') - scalar(plain, 'loss')) < 1e-5, 'loss = plain + corpus term');
    assert.equal(scalar(out, 'corpus_loss'), corpusLoss, 'lambda does not change the forward pass');
  }
  const largest = (a: Float32Array) => Math.max(...Array.from(a, Math.abs));
  for (const name of ['a.0.weight', 'b.10.weight', 'proj.weight', 'enc.layers.1.linear2.weight']) {
    const [g0, g1, g2, gPlain] = [f32(at0, GRAD + name), f32(at1, GRAD + name), f32(at2, GRAD + name), f32(plain, GRAD + name)];
    const scale = largest(gPlain);
    assert.ok(maxAbsDiff(g0, gPlain) <= 1e-5 * scale, `${name}: at lambda 0 the plain gradient`);
    const step1 = g1.map((v, i) => v - (g0[i] as number));
    const step2 = g2.map((v, i) => v - (g1[i] as number));
    assert.ok(largest(step1) > 1e-3 * scale, `${name}: lambda 1 moves the gradient (by ${largest(step1)} of ${scale})`);
    assert.ok(maxAbsDiff(step1, step2) <= 1e-3 * largest(step1), `${name}: linear in lambda`);
  }
  for (const name of ['fc.weight', `${CORPUS_HEAD_PREFIX}0.weight`, `${CORPUS_HEAD_PREFIX}2.bias`]) {
    const g0 = f32(at0, GRAD + name);
    assert.ok(largest(g0) > 0, `${name} has a gradient`);
    assert.ok(maxAbsDiff(g0, f32(at2, GRAD + name)) <= 1e-6 * largest(g0), `${name}: independent of lambda`);
  }
  assert.ok(maxAbsDiff(f32(at1, `${GRAD}fc.weight`), f32(plain, `${GRAD}fc.weight`)) <= 1e-6, 'the emotion classifier sees no corpus term');
});

test('trainer with the corpus head: trunk starts as without it, the head stays out of model.onnx, class indices refused', async () => {
  const options = { batchSize: 4, lr: 1e-3, seed: 3, threads: 1 };
  const plain = await CnnTmTrainer.create(SMALL, options);
  const adversarial = await CnnTmTrainer.create(SMALL, { ...options, corpora: 2 });
  try {
    const withHead = adversarial.state();
    for (const [name, tensor] of plain.state()) assert.deepEqual(withHead.get(name)?.data, tensor.data, name);
    const head = [...withHead.keys()].filter((k) => k.startsWith(CORPUS_HEAD_PREFIX));
    assert.deepEqual(head, ['corpus_head.0.weight', 'corpus_head.0.bias', 'corpus_head.2.weight', 'corpus_head.2.bias']);
    assert.ok(withHead.has(`${OPTIMIZER_PREFIX}${EXP_AVG}corpus_head.2.weight`), 'the head has AdamW moments');
    assert.deepEqual(adversarial.exportOnnx('dynamic'), plain.exportOnnx('dynamic'), 'model.onnx is the plain model');
    assert.equal(adversarial.targetWidth, SMALL.nClasses + 2);

    const x = new Float32Array(4 * SMALL.nMels * SMALL.frames).map((_, i) => -40 + 30 * Math.sin(i / 7)); // shape checks only
    await assert.rejects(adversarial.trainStep(x, Int32Array.of(0, 1, 2, 3), 1), /not class indices/);
    await assert.rejects(adversarial.trainStep(x, new Float32Array(4 * SMALL.nClasses), 1), /4 clips x \(6 classes \+ 2 corpora\) need 32/);

    // A model without the head (the start of a fine-tuning run) keeps the trainer's head.
    const before = adversarial.state().get('corpus_head.2.bias')?.data;
    adversarial.loadState(new Map([...plain.state()].filter(([k]) => !k.startsWith(OPTIMIZER_PREFIX))));
    assert.deepEqual(adversarial.state().get('corpus_head.2.bias')?.data, before);
    const layoutNames = stateLayout(SMALL).map((e) => e.name);
    assert.ok(!layoutNames.some((n) => n.startsWith(CORPUS_HEAD_PREFIX)), 'the deployable layout has no head');
  } finally {
    await plain.release();
    await adversarial.release();
  }
  await assert.rejects(CnnTmTrainer.create(SMALL, { ...options, corpora: 1 }), /at least 2 corpora \(1 given\)/);
});
