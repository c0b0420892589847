/**
 * Finite-difference gradient check through ONNX Runtime. The op under test is wrapped as
 * loss = sum(f(inputs) * r) with a fixed random r (so every output element matters); the analytic
 * gradients from `gradients()` are compared with central differences (L(x + eps) - L(x - eps)) / 2 eps for
 * every element of small inputs (at most `maxElements` per input, evenly spaced, for larger ones).
 * Error measure: max |fd - analytic| / max(max |analytic|, 1e-3) per input.
 */
import { type DType, Graph, type HostArray, type Tensor, gradients, hostArray, mul, reduceSum, toOnnx } from '../../src/graph/index.js';
import { type HostTensor, createSession } from '../../src/runtime/index.js';
import { mulberry32 } from '../../src/data/prng.js';

/** Deterministic uniform [0, 1) generator (the project's mulberry32). */
export const rng = mulberry32;

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  /** Values; default uniform in [-1, 1) from the case seed. */
  data?: number[] | HostArray;
  /** Differentiate with respect to this input (default: true for float inputs). */
  differentiable?: boolean;
}

export interface GradientCase {
  /** Which gradient rule(s) this case exercises (ONNX op types). */
  ops: string[];
  name: string;
  inputs: InputSpec[];
  build: (...xs: Tensor[]) => Tensor;
  /** Float dtype of the float inputs without an explicit dtype; default float64. */
  dtype?: 'float32' | 'float64';
  eps?: number;
  tolerance?: number;
  seed?: number;
}

export interface GradientReport {
  errors: number[];
  worst: number;
}

function fill(spec: InputSpec, dtype: DType, random: () => number): HostArray {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = hostArray(dtype, n);
  for (let i = 0; i < n; i++) {
    const v = spec.data ? Number(spec.data[i]) : random() * 2 - 1;
    if (out instanceof BigInt64Array) out[i] = BigInt(v);
    else out[i] = v;
  }
  return out;
}

export async function checkGradient(c: GradientCase): Promise<GradientReport> {
  const floatType = c.dtype ?? 'float64';
  const eps = c.eps ?? (floatType === 'float64' ? 1e-6 : 1e-2);
  const random = rng(c.seed ?? 1234);
  const g = new Graph(c.name);
  const dtypes = c.inputs.map((s) => s.dtype ?? floatType);
  const xs = c.inputs.map((s, i) => g.input(`x${i}`, s.shape, dtypes[i]));
  const y = c.build(...xs);
  const rData = fill({ shape: [...y.shape] }, y.dtype, random);
  const loss = reduceSum(
    mul(y, g.constant(rData, y.shape, y.dtype)),
    y.shape.map((_, i) => i),
  );
  const wrtIndex = c.inputs
    .map((_s, i) => i)
    .filter((i) => (c.inputs[i]?.differentiable ?? true) && (dtypes[i] === 'float32' || dtypes[i] === 'float64'));
  const grads = gradients(
    loss,
    wrtIndex.map((i) => xs[i] as Tensor),
  );
  g.output('loss', loss);
  grads.forEach((t, k) => {
    g.output(`grad${k}`, t);
  });
  const session = await createSession(toOnnx(g), { threads: 1 });
  try {
    const feeds: Record<string, HostTensor> = {};
    c.inputs.forEach((s, i) => {
      feeds[`x${i}`] = { data: fill(s, dtypes[i] as DType, random), shape: s.shape, dtype: dtypes[i] };
    });
    const base = await session.run(feeds);
    const errors: number[] = [];
    for (let k = 0; k < wrtIndex.length; k++) {
      const name = `x${wrtIndex[k]}`;
      const analytic = base[`grad${k}`]?.data as Float32Array | Float64Array;
      const x = feeds[name]?.data as Float32Array | Float64Array;
      const n = x.length;
      const step = Math.max(1, Math.floor(n / 48));
      let maxErr = 0;
      let scale = 1e-3;
      for (let j = 0; j < n; j += step) {
        const orig = x[j] as number;
        x[j] = orig + eps;
        const plus = Number((await session.run(feeds, ['loss'])).loss?.data[0]);
        x[j] = orig - eps;
        const minus = Number((await session.run(feeds, ['loss'])).loss?.data[0]);
        x[j] = orig;
        const fd = (plus - minus) / (2 * eps);
        maxErr = Math.max(maxErr, Math.abs(fd - (analytic[j] as number)));
        scale = Math.max(scale, Math.abs(analytic[j] as number));
      }
      errors.push(maxErr / scale);
    }
    return { errors, worst: Math.max(0, ...errors) };
  } finally {
    await session.release();
  }
}
