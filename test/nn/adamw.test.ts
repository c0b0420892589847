import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Graph } from '../../src/graph/index.js';
import { toOnnx } from '../../src/graph/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { PAPER_CNN_TM, stateLayout } from '../../src/model/config.js';
import type { HostTensor } from '../../src/runtime/index.js';
import { createSession } from '../../src/runtime/index.js';
import { adamwStepScalars, adamwUpdate, resolveAdamW } from '../../src/nn/adamw.js';
import { hasShared, maxAbsDiff, sharedDir } from '../helpers.js';

/** A graph updating each named parameter from fed gradients and moments: inputs p/, g/, m/, v/, step, lr. */
function adamwGraph(shapes: Map<string, readonly number[]>, options: Parameters<typeof resolveAdamW>[0]): Graph {
  const g = new Graph('adamw');
  const adamw = resolveAdamW(options);
  const scalars = adamwStepScalars(g.input('step', [], 'float64'), g.input('lr', [], 'float64'), adamw);
  for (const [name, shape] of shapes) {
    const moments = { m: g.input(`m/${name}`, shape), v: g.input(`v/${name}`, shape) };
    const out = adamwUpdate(g.input(`p/${name}`, shape), g.input(`g/${name}`, shape), moments, scalars, adamw);
    g.output(`new_p/${name}`, out.param);
    g.output(`new_m/${name}`, out.m);
    g.output(`new_v/${name}`, out.v);
  }
  return g;
}

const scalarFeed = (value: number): HostTensor => ({ data: Float64Array.of(value), shape: [] });

test('two steps on hand-computed values (torch.optim.AdamW formula, float64 reference)', async () => {
  const lr = 0.1;
  const [beta1, beta2, eps, wd] = [0.9, 0.999, 1e-8, 0.01];
  const session = await createSession(toOnnx(adamwGraph(new Map([['w', [2]]]), { betas: [beta1, beta2], eps, weightDecay: wd })));
  try {
    let p = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    const grads = [
      [0.5, 1e-3],
      [-0.25, 1e-3],
    ];
    // Step 1 by hand: m^ = g, v^ = g^2, so p1 = p0 (1 - lr wd) - lr g / (|g| + eps) = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8).
    const firstByHand = 1 * (1 - lr * wd) - (lr * 0.5) / (0.5 + eps);
    for (let t = 1; t <= 2; t++) {
      const g = grads[t - 1] as number[];
      const out = await session.run({
        step: scalarFeed(t),
        lr: scalarFeed(lr),
        'p/w': { data: Float32Array.from(p), shape: [2] },
        'g/w': { data: Float32Array.from(g), shape: [2] },
        'm/w': { data: Float32Array.from(m), shape: [2] },
        'v/w': { data: Float32Array.from(v), shape: [2] },
      });
      // float64 reference, same order as torch's _single_tensor_adamw
      const reference = p.map((pi, i) => {
        const gi = g[i] as number;
        const mi = beta1 * (m[i] as number) + (1 - beta1) * gi;
        const vi = beta2 * (v[i] as number) + (1 - beta2) * gi * gi;
        const denominator = Math.sqrt(vi) / Math.sqrt(1 - beta2 ** t) + eps;
        return pi * (1 - lr * wd) - (lr / (1 - beta1 ** t)) * (mi / denominator);
      });
      m = m.map((mi, i) => beta1 * mi + (1 - beta1) * (g[i] as number));
      v = v.map((vi, i) => beta2 * vi + (1 - beta2) * (g[i] as number) ** 2);
      const got = Array.from(out['new_p/w']?.data as Float32Array);
      assert.ok(maxAbsDiff(got, reference) < 1e-6, `step ${t}: ${got} vs ${reference}`);
      assert.ok(maxAbsDiff(out['new_m/w']?.data as Float32Array, m) < 1e-7);
      assert.ok(maxAbsDiff(out['new_v/w']?.data as Float32Array, v) < 1e-9);
      if (t === 1) assert.ok(Math.abs((got[0] as number) - firstByHand) < 1e-6);
      p = got;
    }
  } finally {
    await session.release();
  }
});

test('bad options are all named', () => {
  assert.throws(
    () => resolveAdamW({ betas: [1, -0.1], eps: -1 }),
    /beta1 must be in \[0, 1\) \(1 given\); beta2 .*\(-0.1 given\); eps must be >= 0/,
  );
});

test("torch's gradients -> every parameter after one step (cnn_tm_small after_step, 1e-5 abs)", {
  skip: hasShared ? false : 'needs ../shared/golden',
}, async () => {
  const golden = readSafetensors(join(sharedDir, 'golden', 'cnn_tm_small.safetensors')).tensors;
  const small = { ...PAPER_CNN_TM, nMels: 64, dModel: 64, layers: 2, heads: 4, ffDim: 128, dropout: 0, frames: 64 };
  const params = stateLayout(small).filter((e) => e.role === 'parameter');
  const graph = adamwGraph(new Map(params.map((e) => [e.name, e.shape])), { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  const feeds: Record<string, HostTensor> = { step: scalarFeed(1), lr: scalarFeed(1e-3) };
  for (const e of params) {
    const zeros = { data: new Float32Array(e.shape.reduce((a, b) => a * b, 1)), shape: e.shape };
    feeds[`p/${e.name}`] = golden.get(`param/${e.name}`) as HostTensor;
    feeds[`g/${e.name}`] = golden.get(`grad/${e.name}`) as HostTensor;
    feeds[`m/${e.name}`] = zeros;
    feeds[`v/${e.name}`] = zeros;
  }
  const session = await createSession(toOnnx(graph));
  try {
    const out = await session.run(feeds);
    let worst = 0;
    for (const e of params) {
      const error = maxAbsDiff(out[`new_p/${e.name}`]?.data as Float32Array, golden.get(`after_step/${e.name}`)?.data as Float32Array);
      worst = Math.max(worst, error);
      assert.ok(error < 1e-5, `${e.name}: max abs error ${error}`);
    }
    console.log(`AdamW with torch's gradients: worst after-step abs error ${worst.toExponential(2)} over ${params.length} parameters`);
  } finally {
    await session.release();
  }
});
