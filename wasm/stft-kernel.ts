// AssemblyScript source of the front end's WebAssembly SIMD kernel (src/features/stft-kernel.ts loads it; `npm run
// build:wasm` compiles it into src/features/stft-kernel-wasm.ts). Each function is the loop of the same name in
// src/features/fft.ts, stft-kernel.ts or db.ts, on the same interleaved layout (element i of frame b at
// i * batch + b), in float32 with four frames per f32x4 vector; the TypeScript loops, in float64, stay the
// reference and the fallback (agreement stated in test/features/stft-kernel.test.ts; torchaudio itself computes
// in float32). Arguments: byte offsets into the instance's memory (x = input, y = output, tw = twiddles), `s` the
// stage stride in elements (stride * batch, a multiple of 4), `m` the sub-length after the stage. No allocation:
// the caller lays out memory.

/** Radix-4 Stockham stage (fft.ts radix4): twiddles [m, 4] at twr, twi. */
export function radix4(xr: usize, xi: usize, yr: usize, yi: usize, twr: usize, twi: usize, m: i32, s: i32): void {
  const sb = (<usize>s) << 2;
  const smb = (<usize>(s * m)) << 2;
  for (let p = 0; p < m; p++) {
    const t = (<usize>(4 * p)) << 2;
    const w1r = f32x4.splat(load<f32>(twr + t, 4));
    const w1i = f32x4.splat(load<f32>(twi + t, 4));
    const w2r = f32x4.splat(load<f32>(twr + t, 8));
    const w2i = f32x4.splat(load<f32>(twi + t, 8));
    const w3r = f32x4.splat(load<f32>(twr + t, 12));
    const w3i = f32x4.splat(load<f32>(twi + t, 12));
    const inBase = (<usize>(s * p)) << 2;
    const outBase = (<usize>(4 * s * p)) << 2;
    for (let q: usize = 0; q < sb; q += 16) {
      const a = inBase + q;
      const x0r = v128.load(xr + a);
      const x0i = v128.load(xi + a);
      const x1r = v128.load(xr + a + smb);
      const x1i = v128.load(xi + a + smb);
      const x2r = v128.load(xr + a + 2 * smb);
      const x2i = v128.load(xi + a + 2 * smb);
      const x3r = v128.load(xr + a + 3 * smb);
      const x3i = v128.load(xi + a + 3 * smb);
      const s02r = f32x4.add(x0r, x2r);
      const s02i = f32x4.add(x0i, x2i);
      const d02r = f32x4.sub(x0r, x2r);
      const d02i = f32x4.sub(x0i, x2i);
      const s13r = f32x4.add(x1r, x3r);
      const s13i = f32x4.add(x1i, x3i);
      const d13r = f32x4.sub(x1r, x3r);
      const d13i = f32x4.sub(x1i, x3i);
      const o = outBase + q;
      v128.store(yr + o, f32x4.add(s02r, s13r));
      v128.store(yi + o, f32x4.add(s02i, s13i));
      const y1r = f32x4.add(d02r, d13i);
      const y1i = f32x4.sub(d02i, d13r);
      v128.store(yr + o + sb, f32x4.sub(f32x4.mul(y1r, w1r), f32x4.mul(y1i, w1i)));
      v128.store(yi + o + sb, f32x4.add(f32x4.mul(y1r, w1i), f32x4.mul(y1i, w1r)));
      const y2r = f32x4.sub(s02r, s13r);
      const y2i = f32x4.sub(s02i, s13i);
      v128.store(yr + o + 2 * sb, f32x4.sub(f32x4.mul(y2r, w2r), f32x4.mul(y2i, w2i)));
      v128.store(yi + o + 2 * sb, f32x4.add(f32x4.mul(y2r, w2i), f32x4.mul(y2i, w2r)));
      const y3r = f32x4.sub(d02r, d13i);
      const y3i = f32x4.add(d02i, d13r);
      v128.store(yr + o + 3 * sb, f32x4.sub(f32x4.mul(y3r, w3r), f32x4.mul(y3i, w3i)));
      v128.store(yi + o + 3 * sb, f32x4.add(f32x4.mul(y3r, w3i), f32x4.mul(y3i, w3r)));
    }
  }
}

/** Radix-4 stage with m = 1, no twiddles (fft.ts radix4Last). */
export function radix4Last(xr: usize, xi: usize, yr: usize, yi: usize, s: i32): void {
  const sb = (<usize>s) << 2;
  for (let q: usize = 0; q < sb; q += 16) {
    const x0r = v128.load(xr + q);
    const x0i = v128.load(xi + q);
    const x1r = v128.load(xr + q + sb);
    const x1i = v128.load(xi + q + sb);
    const x2r = v128.load(xr + q + 2 * sb);
    const x2i = v128.load(xi + q + 2 * sb);
    const x3r = v128.load(xr + q + 3 * sb);
    const x3i = v128.load(xi + q + 3 * sb);
    const s02r = f32x4.add(x0r, x2r);
    const s02i = f32x4.add(x0i, x2i);
    const d02r = f32x4.sub(x0r, x2r);
    const d02i = f32x4.sub(x0i, x2i);
    const s13r = f32x4.add(x1r, x3r);
    const s13i = f32x4.add(x1i, x3i);
    const d13r = f32x4.sub(x1r, x3r);
    const d13i = f32x4.sub(x1i, x3i);
    v128.store(yr + q, f32x4.add(s02r, s13r));
    v128.store(yi + q, f32x4.add(s02i, s13i));
    v128.store(yr + q + sb, f32x4.add(d02r, d13i));
    v128.store(yi + q + sb, f32x4.sub(d02i, d13r));
    v128.store(yr + q + 2 * sb, f32x4.sub(s02r, s13r));
    v128.store(yi + q + 2 * sb, f32x4.sub(s02i, s13i));
    v128.store(yr + q + 3 * sb, f32x4.sub(d02r, d13i));
    v128.store(yi + q + 3 * sb, f32x4.add(d02i, d13r));
  }
}

/** Radix-2 stage (fft.ts radix2): twiddles [m, 2] at twr, twi. */
export function radix2(xr: usize, xi: usize, yr: usize, yi: usize, twr: usize, twi: usize, m: i32, s: i32): void {
  const sb = (<usize>s) << 2;
  const smb = (<usize>(s * m)) << 2;
  for (let p = 0; p < m; p++) {
    const t = (<usize>(2 * p)) << 2;
    const wr = f32x4.splat(load<f32>(twr + t, 4));
    const wi = f32x4.splat(load<f32>(twi + t, 4));
    const inBase = (<usize>(s * p)) << 2;
    const outBase = (<usize>(2 * s * p)) << 2;
    for (let q: usize = 0; q < sb; q += 16) {
      const a = inBase + q;
      const ar = v128.load(xr + a);
      const ai = v128.load(xi + a);
      const br = v128.load(xr + a + smb);
      const bi = v128.load(xi + a + smb);
      const o = outBase + q;
      v128.store(yr + o, f32x4.add(ar, br));
      v128.store(yi + o, f32x4.add(ai, bi));
      const dr = f32x4.sub(ar, br);
      const di = f32x4.sub(ai, bi);
      v128.store(yr + o + sb, f32x4.sub(f32x4.mul(dr, wr), f32x4.mul(di, wi)));
      v128.store(yi + o + sb, f32x4.add(f32x4.mul(dr, wi), f32x4.mul(di, wr)));
    }
  }
}

/**
 * Real-FFT split and power (fft.ts RealFft.powerSpectraInPlace, even sizes): Z = FFT_half of the packed frames at
 * zr, zi [half, batch]; twiddles e^{-2 pi i k / N} at twr, twi; power [half + 1, batch] at power.
 */
export function splitPower(zr: usize, zi: usize, twr: usize, twi: usize, power: usize, half: i32, batch: i32): void {
  const bb = (<usize>batch) << 2;
  const last = (<usize>half) * bb;
  for (let b: usize = 0; b < bb; b += 16) {
    const r0 = v128.load(zr + b);
    const i0 = v128.load(zi + b);
    const plus = f32x4.add(r0, i0);
    const minus = f32x4.sub(r0, i0);
    v128.store(power + b, f32x4.mul(plus, plus));
    v128.store(power + last + b, f32x4.mul(minus, minus));
  }
  const halfV = f32x4.splat(0.5);
  for (let k = 1; k <= half >> 1; k++) {
    const wr = f32x4.splat(load<f32>(twr + ((<usize>k) << 2)));
    const wi = f32x4.splat(load<f32>(twi + ((<usize>k) << 2)));
    const at = (<usize>k) * bb;
    const mirror = (<usize>(half - k)) * bb;
    for (let b: usize = 0; b < bb; b += 16) {
      const ar = v128.load(zr + at + b);
      const ai = v128.load(zi + at + b);
      const br = v128.load(zr + mirror + b);
      const bi = f32x4.neg(v128.load(zi + mirror + b));
      const er = f32x4.mul(halfV, f32x4.add(ar, br));
      const ei = f32x4.mul(halfV, f32x4.add(ai, bi));
      const or = f32x4.mul(halfV, f32x4.sub(ar, br));
      const oi = f32x4.mul(halfV, f32x4.sub(ai, bi));
      const tr = f32x4.sub(f32x4.mul(or, wr), f32x4.mul(oi, wi));
      const ti = f32x4.add(f32x4.mul(or, wi), f32x4.mul(oi, wr));
      const p1r = f32x4.add(er, ti);
      const p1i = f32x4.sub(ei, tr);
      v128.store(power + at + b, f32x4.add(f32x4.mul(p1r, p1r), f32x4.mul(p1i, p1i)));
      const p2r = f32x4.sub(er, ti);
      const p2i = f32x4.add(ei, tr);
      v128.store(power + mirror + b, f32x4.add(f32x4.mul(p2r, p2r), f32x4.mul(p2i, p2i)));
    }
  }
}

/**
 * Sparse mel filter bank (stft-kernel.ts melBankTs): for band m, mel[m, b] = sum over f in [first[m], end[m]) of
 * weights[offset[m] + f - first[m]] * power[f, b], summed in increasing f from 0. first, end, offset: i32 [nMels];
 * weights: f32; power: [bins, batch]; mel: the block's first column of [nMels, stride].
 */
export function melBank(power: usize, first: usize, end: usize, offset: usize, weights: usize, mel: usize, nMels: i32, batch: i32, stride: i32): void {
  const bb = (<usize>batch) << 2;
  const rowBytes = (<usize>stride) << 2;
  for (let m = 0; m < nMels; m++) {
    const at = (<usize>m) << 2;
    const f0 = load<i32>(first + at);
    const f1 = load<i32>(end + at);
    const w0 = weights + ((<usize>(load<i32>(offset + at) - f0)) << 2);
    const row = mel + (<usize>m) * rowBytes;
    for (let b: usize = 0; b < bb; b += 16) {
      let sum = f32x4.splat(0);
      for (let f = f0; f < f1; f++) {
        const weight = f32x4.splat(load<f32>(w0 + ((<usize>f) << 2)));
        sum = f32x4.add(sum, f32x4.mul(weight, v128.load(power + (<usize>f) * bb + b)));
      }
      v128.store(row + b, sum);
    }
  }
}

/**
 * Windowed frames of a block (stft-kernel.ts TsBlock.frame), packed for the real FFT: samples n, n + 1 of frame b go to
 * row n / 2 of re and im. samples: f32, the block's span with the clip's ends already reflected, frame b from
 * samples + b hop; window: f32 [nFft], zero outside [start, end) (both even); frames b >= count (past the clip's
 * end) and rows outside [start / 2, end / 2) are zeroed.
 */
export function frameBlock(samples: usize, window: usize, re: usize, im: usize, start: i32, end: i32, half: i32, hop: i32, count: i32, batch: i32): void {
  const rowBytes = (<usize>batch) << 2;
  const below = (<usize>(start >> 1)) * rowBytes;
  const from = (<usize>(end >> 1)) * rowBytes;
  const to = (<usize>half) * rowBytes;
  memory.fill(re, 0, below);
  memory.fill(im, 0, below);
  memory.fill(re + from, 0, to - from);
  memory.fill(im + from, 0, to - from);
  const hopBytes = (<usize>hop) << 2;
  for (let n = start; n < end; n += 2) {
    const w0 = load<f32>(window + ((<usize>n) << 2));
    const w1 = load<f32>(window + ((<usize>n) << 2), 4);
    const row = (<usize>((n >> 1) * batch)) << 2;
    let at = samples + ((<usize>n) << 2);
    for (let b = 0; b < count; b++) {
      const o = row + ((<usize>b) << 2);
      store<f32>(re + o, load<f32>(at) * w0);
      store<f32>(im + o, load<f32>(at, 4) * w1);
      at += hopBytes;
    }
    for (let b = count; b < batch; b++) {
      const o = row + ((<usize>b) << 2);
      store<f32>(re + o, 0);
      store<f32>(im + o, 0);
    }
  }
}

// Decibels (src/features/db.ts: dB = 10 log10(max(p, 1e-10))), four values per f32x4 vector.
const AMIN: f32 = 1e-10;
const SILENCE_DB: f32 = -100; // 10 log10(AMIN)
const DB_PER_NEPER: f32 = 4.342944819032518; // 10 / ln 10
const SQRT_HALF: f32 = 0.7071067811865476;
const LN2_HI: f32 = 0.693359375; // ln 2 = LN2_HI + LN2_LO, LN2_HI exact in 9 bits, so e * LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4;

/**
 * Natural logarithm of each lane, for positive normal finite x: Cephes' logf (Moshier, Cephes Math Library
 * 2.2, logf.c). x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = t - t^2 / 2 + t^3 P(t), t = m - 1, P the
 * library's degree-8 minimax polynomial; ln x = ln m + e ln 2. Relative error ~1e-7 (the float32 rounding; bound
 * stated in test/features/stft-kernel.test.ts).
 */
function logf(bits: v128): v128 {
  // x = m 2^e with m in [1/2, 1): exponent field minus 126, mantissa with the exponent of 1/2.
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));
  // m < sqrt(1/2): use 2m and e - 1 (the mask is -1 in those lanes), so that t = m - 1 lies in [-0.29, 0.41).
  const low = f32x4.lt(m, f32x4.splat(SQRT_HALF));
  e = i32x4.add(e, low);
  const t = f32x4.sub(f32x4.add(m, v128.and(m, low)), f32x4.splat(1));
  const t2 = f32x4.mul(t, t);
  let p = f32x4.splat(7.0376836292e-2);
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.151461031e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.167699874e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(3.3333331174e-1));
  const ef = f32x4.convert_i32x4_s(e);
  let y = f32x4.mul(f32x4.mul(p, t), t2);
  y = f32x4.add(y, f32x4.mul(ef, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(t2, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(t, y), f32x4.mul(ef, f32x4.splat(LN2_HI)));
}

/**
 * Mel power -> dB in place, `count` float32 values at `values` (count a multiple of 4); returns the largest dB
 * (NaN lanes ignored), for the caller's top_db clamp. NaN and +Infinity power stay NaN and +Infinity (as with
 * Math.log); power up to amin is exactly -100 dB (the logarithm of float32 amin can round one ulp above).
 */
export function decibels(values: usize, count: i32): f32 {
  const amin = f32x4.splat(AMIN);
  const silence = f32x4.splat(SILENCE_DB);
  const infinity = f32x4.splat(Infinity);
  let max = f32x4.splat(-Infinity);
  const end = values + ((<usize>count) << 2);
  for (let at = values; at < end; at += 16) {
    const power = v128.load(at);
    const db = f32x4.mul(logf(f32x4.max(power, amin)), f32x4.splat(DB_PER_NEPER));
    const out = v128.bitselect(silence, v128.bitselect(db, power, f32x4.lt(power, infinity)), f32x4.le(power, amin));
    v128.store(at, out);
    max = f32x4.pmax(max, out);
  }
  return Mathf.max(Mathf.max(f32x4.extract_lane(max, 0), f32x4.extract_lane(max, 1)), Mathf.max(f32x4.extract_lane(max, 2), f32x4.extract_lane(max, 3)));
}
