// AssemblyScript source of the front end's WebAssembly SIMD kernel (src/features/stft-kernel.ts loads it; `npm run
// build:wasm` compiles it into src/features/stft-kernel-wasm.ts). Each function is the loop of the same name in
// src/features/fft.ts or front-end.ts, on the same interleaved layout (element i of frame b at i * batch + b), with
// two frames per f64x2 vector: the same float64 operations in the same order (WebAssembly does not fuse or
// reassociate), so the results are bit-identical to the TypeScript loops, which stay the reference and the fallback.
// Arguments: byte offsets into the instance's memory (x = input, y = output, tw = twiddles), `s` the stage stride in
// elements (stride * batch, even), `m` the sub-length after the stage. No allocation: the caller lays out memory.

/** Radix-4 Stockham stage (fft.ts radix4): twiddles [m, 4] at twr, twi. */
export function radix4(xr: usize, xi: usize, yr: usize, yi: usize, twr: usize, twi: usize, m: i32, s: i32): void {
  const sb = (<usize>s) << 3;
  const smb = (<usize>(s * m)) << 3;
  for (let p = 0; p < m; p++) {
    const t = (<usize>(4 * p)) << 3;
    const w1r = f64x2.splat(load<f64>(twr + t, 8));
    const w1i = f64x2.splat(load<f64>(twi + t, 8));
    const w2r = f64x2.splat(load<f64>(twr + t, 16));
    const w2i = f64x2.splat(load<f64>(twi + t, 16));
    const w3r = f64x2.splat(load<f64>(twr + t, 24));
    const w3i = f64x2.splat(load<f64>(twi + t, 24));
    const inBase = (<usize>(s * p)) << 3;
    const outBase = (<usize>(4 * s * p)) << 3;
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
      const s02r = f64x2.add(x0r, x2r);
      const s02i = f64x2.add(x0i, x2i);
      const d02r = f64x2.sub(x0r, x2r);
      const d02i = f64x2.sub(x0i, x2i);
      const s13r = f64x2.add(x1r, x3r);
      const s13i = f64x2.add(x1i, x3i);
      const d13r = f64x2.sub(x1r, x3r);
      const d13i = f64x2.sub(x1i, x3i);
      const o = outBase + q;
      v128.store(yr + o, f64x2.add(s02r, s13r));
      v128.store(yi + o, f64x2.add(s02i, s13i));
      const y1r = f64x2.add(d02r, d13i);
      const y1i = f64x2.sub(d02i, d13r);
      v128.store(yr + o + sb, f64x2.sub(f64x2.mul(y1r, w1r), f64x2.mul(y1i, w1i)));
      v128.store(yi + o + sb, f64x2.add(f64x2.mul(y1r, w1i), f64x2.mul(y1i, w1r)));
      const y2r = f64x2.sub(s02r, s13r);
      const y2i = f64x2.sub(s02i, s13i);
      v128.store(yr + o + 2 * sb, f64x2.sub(f64x2.mul(y2r, w2r), f64x2.mul(y2i, w2i)));
      v128.store(yi + o + 2 * sb, f64x2.add(f64x2.mul(y2r, w2i), f64x2.mul(y2i, w2r)));
      const y3r = f64x2.sub(d02r, d13i);
      const y3i = f64x2.add(d02i, d13r);
      v128.store(yr + o + 3 * sb, f64x2.sub(f64x2.mul(y3r, w3r), f64x2.mul(y3i, w3i)));
      v128.store(yi + o + 3 * sb, f64x2.add(f64x2.mul(y3r, w3i), f64x2.mul(y3i, w3r)));
    }
  }
}

/** Radix-4 stage with m = 1, no twiddles (fft.ts radix4Last). */
export function radix4Last(xr: usize, xi: usize, yr: usize, yi: usize, s: i32): void {
  const sb = (<usize>s) << 3;
  for (let q: usize = 0; q < sb; q += 16) {
    const x0r = v128.load(xr + q);
    const x0i = v128.load(xi + q);
    const x1r = v128.load(xr + q + sb);
    const x1i = v128.load(xi + q + sb);
    const x2r = v128.load(xr + q + 2 * sb);
    const x2i = v128.load(xi + q + 2 * sb);
    const x3r = v128.load(xr + q + 3 * sb);
    const x3i = v128.load(xi + q + 3 * sb);
    const s02r = f64x2.add(x0r, x2r);
    const s02i = f64x2.add(x0i, x2i);
    const d02r = f64x2.sub(x0r, x2r);
    const d02i = f64x2.sub(x0i, x2i);
    const s13r = f64x2.add(x1r, x3r);
    const s13i = f64x2.add(x1i, x3i);
    const d13r = f64x2.sub(x1r, x3r);
    const d13i = f64x2.sub(x1i, x3i);
    v128.store(yr + q, f64x2.add(s02r, s13r));
    v128.store(yi + q, f64x2.add(s02i, s13i));
    v128.store(yr + q + sb, f64x2.add(d02r, d13i));
    v128.store(yi + q + sb, f64x2.sub(d02i, d13r));
    v128.store(yr + q + 2 * sb, f64x2.sub(s02r, s13r));
    v128.store(yi + q + 2 * sb, f64x2.sub(s02i, s13i));
    v128.store(yr + q + 3 * sb, f64x2.sub(d02r, d13i));
    v128.store(yi + q + 3 * sb, f64x2.add(d02i, d13r));
  }
}

/** Radix-2 stage (fft.ts radix2): twiddles [m, 2] at twr, twi. */
export function radix2(xr: usize, xi: usize, yr: usize, yi: usize, twr: usize, twi: usize, m: i32, s: i32): void {
  const sb = (<usize>s) << 3;
  const smb = (<usize>(s * m)) << 3;
  for (let p = 0; p < m; p++) {
    const t = (<usize>(2 * p)) << 3;
    const wr = f64x2.splat(load<f64>(twr + t, 8));
    const wi = f64x2.splat(load<f64>(twi + t, 8));
    const inBase = (<usize>(s * p)) << 3;
    const outBase = (<usize>(2 * s * p)) << 3;
    for (let q: usize = 0; q < sb; q += 16) {
      const a = inBase + q;
      const ar = v128.load(xr + a);
      const ai = v128.load(xi + a);
      const br = v128.load(xr + a + smb);
      const bi = v128.load(xi + a + smb);
      const o = outBase + q;
      v128.store(yr + o, f64x2.add(ar, br));
      v128.store(yi + o, f64x2.add(ai, bi));
      const dr = f64x2.sub(ar, br);
      const di = f64x2.sub(ai, bi);
      v128.store(yr + o + sb, f64x2.sub(f64x2.mul(dr, wr), f64x2.mul(di, wi)));
      v128.store(yi + o + sb, f64x2.add(f64x2.mul(dr, wi), f64x2.mul(di, wr)));
    }
  }
}

/**
 * Real-FFT split and power (fft.ts RealFft.powerSpectraInPlace, even sizes): Z = FFT_half of the packed frames at
 * zr, zi [half, batch]; twiddles e^{-2 pi i k / N} at twr, twi; power [half + 1, batch] at power.
 */
export function splitPower(zr: usize, zi: usize, twr: usize, twi: usize, power: usize, half: i32, batch: i32): void {
  const bb = (<usize>batch) << 3;
  const last = (<usize>half) * bb;
  for (let b: usize = 0; b < bb; b += 16) {
    const r0 = v128.load(zr + b);
    const i0 = v128.load(zi + b);
    const plus = f64x2.add(r0, i0);
    const minus = f64x2.sub(r0, i0);
    v128.store(power + b, f64x2.mul(plus, plus));
    v128.store(power + last + b, f64x2.mul(minus, minus));
  }
  const halfV = f64x2.splat(0.5);
  for (let k = 1; k <= half >> 1; k++) {
    const wr = f64x2.splat(load<f64>(twr + ((<usize>k) << 3)));
    const wi = f64x2.splat(load<f64>(twi + ((<usize>k) << 3)));
    const at = (<usize>k) * bb;
    const mirror = (<usize>(half - k)) * bb;
    for (let b: usize = 0; b < bb; b += 16) {
      const ar = v128.load(zr + at + b);
      const ai = v128.load(zi + at + b);
      const br = v128.load(zr + mirror + b);
      const bi = f64x2.neg(v128.load(zi + mirror + b));
      const er = f64x2.mul(halfV, f64x2.add(ar, br));
      const ei = f64x2.mul(halfV, f64x2.add(ai, bi));
      const or = f64x2.mul(halfV, f64x2.sub(ar, br));
      const oi = f64x2.mul(halfV, f64x2.sub(ai, bi));
      const tr = f64x2.sub(f64x2.mul(or, wr), f64x2.mul(oi, wi));
      const ti = f64x2.add(f64x2.mul(or, wi), f64x2.mul(oi, wr));
      const p1r = f64x2.add(er, ti);
      const p1i = f64x2.sub(ei, tr);
      v128.store(power + at + b, f64x2.add(f64x2.mul(p1r, p1r), f64x2.mul(p1i, p1i)));
      const p2r = f64x2.sub(er, ti);
      const p2i = f64x2.add(ei, tr);
      v128.store(power + mirror + b, f64x2.add(f64x2.mul(p2r, p2r), f64x2.mul(p2i, p2i)));
    }
  }
}

/**
 * Sparse mel filter bank (front-end.ts melPower): for band m, mel[m, b] = sum over f in [first[m], end[m]) of
 * weights[offset[m] + f - first[m]] * power[f, b], summed in increasing f from 0. first, end, offset: i32 [nMels];
 * weights: f32; power: [bins, batch]; mel: [nMels, batch].
 */
export function melBank(power: usize, first: usize, end: usize, offset: usize, weights: usize, mel: usize, nMels: i32, batch: i32): void {
  const bb = (<usize>batch) << 3;
  for (let m = 0; m < nMels; m++) {
    const at = (<usize>m) << 2;
    const f0 = load<i32>(first + at);
    const f1 = load<i32>(end + at);
    const w0 = weights + ((<usize>(load<i32>(offset + at) - f0)) << 2);
    const row = mel + (<usize>m) * bb;
    for (let b: usize = 0; b < bb; b += 16) {
      let sum = f64x2.splat(0);
      for (let f = f0; f < f1; f++) {
        const weight = f64x2.splat(<f64>load<f32>(w0 + ((<usize>f) << 2)));
        sum = f64x2.add(sum, f64x2.mul(weight, v128.load(power + (<usize>f) * bb + b)));
      }
      v128.store(row + b, sum);
    }
  }
}

/**
 * Windowed frames of a block wholly inside the clip (front-end.ts melPower, the common case), packed for the real
 * FFT: samples n, n + 1 of frame b go to row n / 2 of re and im. samples: f32, frame b starts at samples + b hop;
 * window: f64 [nFft], nonzero on [start, end) (both even); rows outside [start / 2, end / 2) of the half rows are
 * zeroed.
 */
export function frameBlock(samples: usize, window: usize, re: usize, im: usize, start: i32, end: i32, half: i32, hop: i32, batch: i32): void {
  const rowBytes = (<usize>batch) << 3;
  const below = (<usize>(start >> 1)) * rowBytes;
  const from = (<usize>(end >> 1)) * rowBytes;
  const to = (<usize>half) * rowBytes;
  memory.fill(re, 0, below);
  memory.fill(im, 0, below);
  memory.fill(re + from, 0, to - from);
  memory.fill(im + from, 0, to - from);
  const hopBytes = (<usize>hop) << 2;
  for (let n = start; n < end; n += 2) {
    const w0 = load<f64>(window + ((<usize>n) << 3));
    const w1 = load<f64>(window + ((<usize>n) << 3), 8);
    const row = (<usize>((n >> 1) * batch)) << 3;
    let at = samples + ((<usize>n) << 2);
    for (let b = 0; b < batch; b++) {
      const o = row + ((<usize>b) << 3);
      store<f64>(re + o, <f64>load<f32>(at) * w0);
      store<f64>(im + o, <f64>load<f32>(at, 4) * w1);
      at += hopBytes;
    }
  }
}
