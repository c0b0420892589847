/** Runtime seam: ORT failures surface as SerError ERUNTIME with ORT's reason; feeds are checked by name. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, relu, toOnnx } from '../../src/graph/index.js';
import { createSession } from '../../src/runtime/index.js';

const isRuntime = (pattern: RegExp) => (e: Error & { code?: string }) => e.code === 'ERUNTIME' && pattern.test(e.message);

test('bad model bytes raise ERUNTIME', async () => {
  await assert.rejects(createSession(new Uint8Array([1, 2, 3, 4])), isRuntime(/^runtime: cannot load the model \(4 bytes\)/));
});

test('missing feeds, wrong sizes and use after release raise ERUNTIME', async () => {
  const g = new Graph();
  g.output('y', relu(g.input('x', [2, 2])));
  const session = await createSession(toOnnx(g), { threads: 1 });
  assert.deepEqual(session.inputNames, ['x']);
  assert.deepEqual(session.outputNames, ['y']);
  await assert.rejects(session.run({}), isRuntime(/missing feeds for input\(s\) x/));
  await assert.rejects(session.run({ x: { data: new Float32Array(3), shape: [2, 2] } }), isRuntime(/feed 'x'/));
  await assert.rejects(session.run({ x: { data: new Float32Array(6), shape: [3, 2] } }), isRuntime(/run failed/));
  const ok = await session.run({ x: { data: Float32Array.of(-1, 2, -3, 4), shape: [2, 2] } });
  assert.deepEqual(Array.from(ok.y!.data as Float32Array), [0, 2, 0, 4]);
  await session.release();
  await assert.rejects(session.run({ x: { data: new Float32Array(4), shape: [2, 2] } }), isRuntime(/after release/));
});
