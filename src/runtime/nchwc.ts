/**
 * MLAS's NCHWc channel block size on this machine, as ONNX Runtime sees it (16 with AVX-512, 8 with AVX2,
 * 0 when ORT does not use NCHWc). Found by letting ORT optimise a tiny constant-weight Conv and reading the
 * padded output-channel count of the weight its NCHWc transformer wrote. Feed it to
 * `toOnnx(graph, {nchwcBlock})` to lower training-graph Convs (fed weights) to NCHWc kernels.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { Graph, conv2d, toOnnx } from '../graph/index.js';
import { createSession } from './ort-node.js';

let cached: Promise<number> | undefined;

export function nchwcBlockSize(): Promise<number> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<number> {
  const g = new Graph('nchwc_probe');
  const x = g.input('x', [1, 4, 8, 8]);
  g.output('y', conv2d(x, g.constant(new Float32Array(4 * 4 * 9).fill(0.5), [4, 4, 3, 3]), null, { pads: 1 }));
  const dir = mkdtempSync(join(tmpdir(), 'ser-nchwc-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const session = await createSession(toOnnx(g), { threads: 1, optimizationLevel: 'all', optimizedModelPath: path });
    await session.release();
    const graph = onnxProto.onnx.ModelProto.decode(readFileSync(path)).graph;
    const conv = graph?.node?.find((n) => n.domain === 'com.microsoft.nchwc' && n.opType === 'Conv');
    const weight = graph?.initializer?.find((t) => t.name === conv?.input?.[1]);
    return weight?.dims?.[0] !== undefined ? Number(weight.dims[0]) : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
