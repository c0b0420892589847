/**
 * Micro-benchmark of conv2d gradient formulations in ONNX Runtime on the CNN-TM paper shapes (batch 32,
 * 3x3 kernels, pad 1), 2 intra-op threads, ORT optimisation 'extended' (as for training graphs); 'NCHWc-lowered'
 * = toOnnx({nchwcBlock}) (no effect where the channel counts are not multiples of the block). Each variant is its own session; minimum of `--runs` runs (robust to other load).
 *   npx tsx bench/graph-conv-grad.ts [--runs 7]
 */
import {
  Graph,
  type Tensor,
  concat,
  conv2d,
  convTranspose2d,
  gather,
  matmul,
  pad,
  reduceSum,
  reshape,
  slice,
  toOnnx,
  transpose,
} from '../src/graph/index.js';
import { createSession, nchwcBlockSize } from '../src/runtime/index.js';
import type { HostTensor } from '../src/runtime/index.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 7);
const LAYERS = [
  { name: 'conv1 1->16 @128x188', b: 32, cin: 1, h: 128, w: 188, cout: 16 },
  { name: 'conv2 16->32 @64x94', b: 32, cin: 16, h: 64, w: 94, cout: 32 },
  { name: 'conv3 32->64 @16x23', b: 32, cin: 32, h: 16, w: 23, cout: 64 },
];

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898) * 0.5;
  return a;
}

async function time(label: string, build: (g: Graph) => Tensor, feeds: Record<string, HostTensor>, nchwcBlock = 0): Promise<number> {
  const g = new Graph(label);
  const r = build(g);
  g.output(
    'out',
    reduceSum(
      r,
      r.shape.map((_, i) => i),
    ),
  ); // scalar output: time the op, not the copy to JS
  const session = await createSession(toOnnx(g, { nchwcBlock }), { threads: 2, optimizationLevel: 'extended' });
  const used = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n] as HostTensor]));
  await session.run(used);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(used);
    times.push(performance.now() - t0);
  }
  await session.release();
  times.sort((p, q) => p - q);
  return times[0] as number; // minimum: the least disturbed run on a shared machine
}

const block = await nchwcBlockSize();
for (const L of LAYERS) {
  const xs = [L.b, L.cin, L.h, L.w];
  const ws = [L.cout, L.cin, 3, 3];
  const ys = [L.b, L.cout, L.h, L.w];
  const feeds: Record<string, HostTensor> = {
    x: { data: random(xs.reduce((p, q) => p * q)), shape: xs },
    w: { data: random(ws.reduce((p, q) => p * q)), shape: ws },
    dy: { data: random(ys.reduce((p, q) => p * q)), shape: ys },
  };
  const x = (g: Graph) => g.input('x', xs);
  const w = (g: Graph) => g.input('w', ws);
  const dy = (g: Graph) => g.input('dy', ys);
  const results: Record<string, number> = {};
  results['forward (W fed)'] = await time('fwd', (g) => conv2d(x(g), w(g), null, { pads: 1 }), feeds);
  results['forward (W constant)'] = await time('fwdc', (g) => conv2d(x(g), g.constant(feeds.w!.data, ws), null, { pads: 1 }), feeds);
  results['dX ConvTranspose'] = await time('dxT', (g) => convTranspose2d(dy(g), w(g), { pads: 1 }), feeds);
  results['dX Conv(flipped W^T)'] = await time(
    'dxF',
    (g) => {
      const rev = g.constant(BigInt64Array.of(2n, 1n, 0n), [3], 'int64');
      const flipped = gather(gather(transpose(w(g), [1, 0, 2, 3]), rev, 2), rev, 3);
      return conv2d(dy(g), flipped, null, { pads: 1 });
    },
    feeds,
  );
  results['dW Conv(X^T, dY^T)'] = await time(
    'dwC',
    (g) => transpose(conv2d(transpose(x(g), [1, 0, 2, 3]), transpose(dy(g), [1, 0, 2, 3]), null, { pads: 1 }), [1, 0, 2, 3]),
    feeds,
  );
  results['forward (W fed) NCHWc-lowered'] = await time('fwdN', (g) => conv2d(x(g), w(g), null, { pads: 1 }), feeds, block);
  results['dX Conv(flipped W^T) NCHWc-lowered'] = await time(
    'dxFN',
    (g) => {
      const rev = g.constant(BigInt64Array.of(2n, 1n, 0n), [3], 'int64');
      const flipped = gather(gather(transpose(w(g), [1, 0, 2, 3]), rev, 2), rev, 3);
      return conv2d(dy(g), flipped, null, { pads: 1 });
    },
    feeds,
    block,
  );
  results['dW Conv(X^T, dY^T) NCHWc-lowered'] = await time(
    'dwCN',
    (g) => transpose(conv2d(transpose(x(g), [1, 0, 2, 3]), transpose(dy(g), [1, 0, 2, 3]), null, { pads: 1 }), [1, 0, 2, 3]),
    feeds,
    block,
  );
  results['dW im2col + batched MatMul'] = await time(
    'dwM',
    (g) => {
      const xp = pad(x(g), [0, 0, 1, 1, 0, 0, 1, 1]);
      const shifts: Tensor[] = [];
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) shifts.push(reshape(slice(xp, [i, j], [i + L.h, j + L.w], [2, 3]), [L.b, L.cin, 1, L.h * L.w]));
      const cols = reshape(concat(shifts, 2), [L.b, L.cin * 9, L.h * L.w]);
      const prod = matmul(reshape(dy(g), [L.b, L.cout, L.h * L.w]), transpose(cols, [0, 2, 1])); // [B, Cout, Cin*9]
      return reshape(reduceSum(prod, [0]), ws);
    },
    feeds,
  );
  results['dW im2col by one-hot Conv + batched MatMul'] = await time(
    'dwE',
    (g) => {
      const eye = new Float32Array(81);
      for (let k = 0; k < 9; k++) eye[k * 9 + k] = 1; // kernel k picks offset (k / 3, k % 3)
      const cols = conv2d(reshape(x(g), [L.b * L.cin, 1, L.h, L.w]), g.constant(eye, [9, 1, 3, 3]), null, { pads: 1 }); // [B*Cin, 9, H, W]
      const prod = matmul(reshape(dy(g), [L.b, L.cout, L.h * L.w]), transpose(reshape(cols, [L.b, L.cin * 9, L.h * L.w]), [0, 2, 1]));
      return reshape(reduceSum(prod, [0]), ws);
    },
    feeds,
  );
  results['dW one-hot im2col, cols x dY^T'] = await time(
    'dwE2',
    (g) => {
      const eye = new Float32Array(81);
      for (let k = 0; k < 9; k++) eye[k * 9 + k] = 1;
      const cols = conv2d(reshape(x(g), [L.b * L.cin, 1, L.h, L.w]), g.constant(eye, [9, 1, 3, 3]), null, { pads: 1 });
      const prod = matmul(reshape(cols, [L.b, L.cin * 9, L.h * L.w]), transpose(reshape(dy(g), [L.b, L.cout, L.h * L.w]), [0, 2, 1])); // [B, Cin*9, Cout]
      return transpose(reshape(reduceSum(prod, [0]), [L.cin, 3, 3, L.cout]), [3, 0, 1, 2]);
    },
    feeds,
  );
  results['dW im2col + one GEMM'] = await time(
    'dwG',
    (g) => {
      const xp = pad(transpose(x(g), [1, 0, 2, 3]), [0, 0, 1, 1, 0, 0, 1, 1]); // [Cin, B, H+2, W+2]
      const shifts: Tensor[] = [];
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++) shifts.push(reshape(slice(xp, [i, j], [i + L.h, j + L.w], [2, 3]), [L.cin, 1, L.b * L.h * L.w]));
      const cols = reshape(concat(shifts, 1), [L.cin * 9, L.b * L.h * L.w]);
      const dyT = reshape(transpose(dy(g), [1, 0, 2, 3]), [L.cout, L.b * L.h * L.w]);
      return reshape(matmul(dyT, transpose(cols, [1, 0])), ws);
    },
    feeds,
  );
  console.log(L.name, Object.fromEntries(Object.entries(results).map(([k, v]) => [k, `${v.toFixed(1)} ms`])));
}
