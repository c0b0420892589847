// AssemblyScript source of the resampler's WebAssembly SIMD kernel (src/audio/resample.ts loads it; `npm run
// build:wasm` compiles it into src/audio/resample-kernel-wasm.ts). resampleRange is the loop of the same name in
// src/audio/resample.ts, the reference and the fallback: its four accumulators a0, a1, a2, a3 are the lanes of two
// f64x2 vectors, so the same float64 operations run in the same order (WebAssembly does not fuse or reassociate)
// and the output is bit-identical (test/audio/resample.test.ts). Arguments: byte offsets into the instance's
// memory for the arrays, counts in elements. No allocation: the caller lays out memory.

/**
 * Output samples fromOut .. fromOut + outLength - 1 into out (f32) of the polyphase kernel (weights f64; offset,
 * first, count i32 [newRate]) over the signal of `length` samples whose samples xOrigin .. are at x (f64).
 */
export function resampleRange(
  weights: usize,
  offset: usize,
  first: usize,
  count: usize,
  orig: i32,
  newRate: i32,
  width: i32,
  x: usize,
  xOrigin: i32,
  length: i32,
  fromOut: i32,
  out: usize,
  outLength: i32,
): void {
  let j = fromOut % newRate;
  let blockStart = ((fromOut - j) / newRate) * orig - width;
  for (let i = 0; i < outLength; i++, j++) {
    if (j === newRate) {
      j = 0;
      blockStart += orig;
    }
    const at = (<usize>j) << 2;
    const start = blockStart + load<i32>(first + at);
    const w0 = load<i32>(offset + at) - start;
    const from = max(start, 0);
    const to = min(start + load<i32>(count + at), length);
    let a01 = f64x2.splat(0); // lanes a0, a1
    let a23 = f64x2.splat(0); // lanes a2, a3
    let n = from;
    for (; n + 3 < to; n += 4) {
      const w = weights + ((<usize>(w0 + n)) << 3);
      const v = x + ((<usize>(n - xOrigin)) << 3);
      a01 = f64x2.add(a01, f64x2.mul(v128.load(w), v128.load(v)));
      a23 = f64x2.add(a23, f64x2.mul(v128.load(w, 16), v128.load(v, 16)));
    }
    let a0 = f64x2.extract_lane(a01, 0);
    for (; n < to; n++) a0 += load<f64>(weights + ((<usize>(w0 + n)) << 3)) * load<f64>(x + ((<usize>(n - xOrigin)) << 3));
    const sum = a0 + f64x2.extract_lane(a01, 1) + (f64x2.extract_lane(a23, 0) + f64x2.extract_lane(a23, 1));
    store<f32>(out + ((<usize>i) << 2), <f32>sum);
  }
}
