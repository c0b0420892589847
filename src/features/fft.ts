/**
 * Fast Fourier transforms for the STFT, any size (n_fft 400 = 2^4 * 5^2 is torchaudio's default, so power-of-two
 * only is not enough).
 *
 * `ComplexFft`: mixed-radix Stockham autosort FFT (decimation in frequency), butterflies for radix 4, 2, 3, 5 and a
 * generic O(p^2) one for other prime factors. Forward transform, no scaling: X[k] = sum_n x[n] e^{-2 pi i n k / N}.
 * Stage with radix r on a sub-length n (stride s = N / n): for p < n/r, q < s,
 *     y[q + s (r p + k)] = w_n^{p k} * sum_j x[q + s (p + j n/r)] * w_r^{j k},   w_m = e^{-2 pi i / m}
 * then recurse on n/r with stride s r, ping-ponging between two buffers.
 *
 * `RealFft`: the one-sided spectrum of a real frame of even length N through one complex FFT of N/2 points:
 *     z[n] = x[2n] + i x[2n+1],  Z = FFT_{N/2}(z),
 *     X[k] = (Z[k] + conj Z[N/2-k]) / 2 - i e^{-2 pi i k / N} (Z[k] - conj Z[N/2-k]) / 2,   k = 0 .. N/2.
 * Odd N falls back to a full complex FFT with zero imaginary part.
 */

/**
 * Radices for n: as many 4s as possible, then 2, 3, 5 and any other primes. A single 2 goes first so that the
 * last stage (whose twiddles are all 1, see radix4Last) is a radix-4 one.
 */
function factorize(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  while (rest % 4 === 0) {
    factors.push(4);
    rest /= 4;
  }
  if (rest % 2 === 0) {
    factors.unshift(2);
    rest /= 2;
  }
  for (const p of [3, 5]) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  for (let p = 7; p * p <= rest; p += 2) {
    while (rest % p === 0) {
      factors.push(p);
      rest /= p;
    }
  }
  if (rest > 1) factors.push(rest);
  return factors;
}

/** One Stockham stage and its twiddles (public so the WebAssembly kernel, stft-kernel.ts, runs these very tables). */
export interface Stage {
  readonly radix: number;
  readonly m: number; // sub-length after this stage (n / radix)
  readonly stride: number; // s
  readonly twRe: Float64Array; // [m, radix]: w_n^{p k}
  readonly twIm: Float64Array;
}

/** Forward complex FFT of a fixed size `n`, on split real/imaginary Float64Arrays. */
export class ComplexFft {
  readonly size: number;
  /** The stages in order (radices from factorize). */
  readonly stages: readonly Stage[];
  private bufRe: Float64Array;
  private bufIm: Float64Array;
  // Scratch for the generic radix butterfly.
  private readonly genRe: Float64Array;
  private readonly genIm: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`fft: size must be a positive integer (${size} given)`);
    this.size = size;
    let n = size;
    let stride = 1;
    let maxRadix = 1;
    const stages: Stage[] = [];
    for (const radix of factorize(size)) {
      const m = n / radix;
      const twRe = new Float64Array(m * radix);
      const twIm = new Float64Array(m * radix);
      for (let p = 0; p < m; p++) {
        for (let k = 0; k < radix; k++) {
          const angle = (-2 * Math.PI * p * k) / n;
          twRe[p * radix + k] = Math.cos(angle);
          twIm[p * radix + k] = Math.sin(angle);
        }
      }
      stages.push({ radix, m, stride, twRe, twIm });
      maxRadix = Math.max(maxRadix, radix);
      n = m;
      stride *= radix;
    }
    this.stages = stages;
    this.bufRe = new Float64Array(size);
    this.bufIm = new Float64Array(size);
    this.genRe = new Float64Array(maxRadix);
    this.genIm = new Float64Array(maxRadix);
  }

  /** In-place forward FFT of (re, im), each of length `size`. */
  forward(re: Float64Array, im: Float64Array): void {
    this.forwardBatch(re, im, 1);
  }

  /**
   * In-place forward FFTs of `batch` interleaved sequences: element i of sequence b at i * batch + b (re and im
   * of length size * batch). Batching is Stockham with an initial stride of `batch`: every butterfly loop then runs
   * over the batch with its twiddle loaded once, which is what makes the STFT fast in JavaScript.
   */
  forwardBatch(re: Float64Array, im: Float64Array, batch: number): void {
    const [outRe, outIm] = this.transformBatch(re, im, batch);
    if (outRe !== re) {
      const length = this.size * batch;
      re.set(outRe.subarray(0, length));
      im.set(outIm.subarray(0, length));
    }
  }

  /** forwardBatch without the final copy: returns the buffers holding the result (the inputs or internal ones). */
  transformBatch(re: Float64Array, im: Float64Array, batch: number): [Float64Array, Float64Array] {
    const length = this.size * batch;
    if (re.length < length || im.length < length) throw new RangeError(`fft: need ${length} values, got ${re.length} and ${im.length}`);
    if (this.bufRe.length < length) {
      this.bufRe = new Float64Array(length);
      this.bufIm = new Float64Array(length);
    }
    let xRe = re;
    let xIm = im;
    let yRe = this.bufRe;
    let yIm = this.bufIm;
    for (const stage of this.stages) {
      const s = stage.stride * batch;
      switch (stage.radix) {
        case 4:
          if (stage.m === 1) radix4Last(s, xRe, xIm, yRe, yIm);
          else radix4(stage, s, xRe, xIm, yRe, yIm);
          break;
        case 2:
          radix2(stage, s, xRe, xIm, yRe, yIm);
          break;
        case 3:
          radix3(stage, s, xRe, xIm, yRe, yIm);
          break;
        case 5:
          radix5(stage, s, xRe, xIm, yRe, yIm);
          break;
        default:
          radixGeneric(stage, s, xRe, xIm, yRe, yIm, this.genRe, this.genIm);
      }
      [xRe, yRe] = [yRe, xRe];
      [xIm, yIm] = [yIm, xIm];
    }
    return [xRe, xIm];
  }
}

function radix2(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, twRe, twIm } = st;
  for (let p = 0; p < m; p++) {
    const wr = twRe[2 * p + 1]!;
    const wi = twIm[2 * p + 1]!;
    for (let q = 0; q < s; q++) {
      const a = q + s * p;
      const b = a + s * m;
      const ar = xr[a]!;
      const ai = xi[a]!;
      const br = xr[b]!;
      const bi = xi[b]!;
      const out = q + s * 2 * p;
      yr[out] = ar + br;
      yi[out] = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      yr[out + s] = dr * wr - di * wi;
      yi[out + s] = dr * wi + di * wr;
    }
  }
}

function radix4(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[4 * p + 1]!;
    const w1i = twIm[4 * p + 1]!;
    const w2r = twRe[4 * p + 2]!;
    const w2i = twIm[4 * p + 2]!;
    const w3r = twRe[4 * p + 3]!;
    const w3i = twIm[4 * p + 3]!;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const x0r = xr[i0]!;
      const x0i = xi[i0]!;
      const x1r = xr[i0 + sm]!;
      const x1i = xi[i0 + sm]!;
      const x2r = xr[i0 + 2 * sm]!;
      const x2i = xi[i0 + 2 * sm]!;
      const x3r = xr[i0 + 3 * sm]!;
      const x3i = xi[i0 + 3 * sm]!;
      // w_4 = -i: X0 = a+b+c+d, X1 = (a-c) - i(b-d), X2 = (a+c) - (b+d), X3 = (a-c) + i(b-d)
      const s02r = x0r + x2r;
      const s02i = x0i + x2i;
      const d02r = x0r - x2r;
      const d02i = x0i - x2i;
      const s13r = x1r + x3r;
      const s13i = x1i + x3i;
      const d13r = x1r - x3r;
      const d13i = x1i - x3i;
      const out = q + s * 4 * p;
      yr[out] = s02r + s13r;
      yi[out] = s02i + s13i;
      const y1r = d02r + d13i;
      const y1i = d02i - d13r;
      yr[out + s] = y1r * w1r - y1i * w1i;
      yi[out + s] = y1r * w1i + y1i * w1r;
      const y2r = s02r - s13r;
      const y2i = s02i - s13i;
      yr[out + 2 * s] = y2r * w2r - y2i * w2i;
      yi[out + 2 * s] = y2r * w2i + y2i * w2r;
      const y3r = d02r - d13i;
      const y3i = d02i + d13r;
      yr[out + 3 * s] = y3r * w3r - y3i * w3i;
      yi[out + 3 * s] = y3r * w3i + y3i * w3r;
    }
  }
}

/** Radix-4 stage with m = 1: every twiddle w_n^{0 k} is 1, so no multiplications. */
function radix4Last(s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  for (let q = 0; q < s; q++) {
    const x0r = xr[q]!;
    const x0i = xi[q]!;
    const x1r = xr[q + s]!;
    const x1i = xi[q + s]!;
    const x2r = xr[q + 2 * s]!;
    const x2i = xi[q + 2 * s]!;
    const x3r = xr[q + 3 * s]!;
    const x3i = xi[q + 3 * s]!;
    const s02r = x0r + x2r;
    const s02i = x0i + x2i;
    const d02r = x0r - x2r;
    const d02i = x0i - x2i;
    const s13r = x1r + x3r;
    const s13i = x1i + x3i;
    const d13r = x1r - x3r;
    const d13i = x1i - x3i;
    yr[q] = s02r + s13r;
    yi[q] = s02i + s13i;
    yr[q + s] = d02r + d13i;
    yi[q + s] = d02i - d13r;
    yr[q + 2 * s] = s02r - s13r;
    yi[q + 2 * s] = s02i - s13i;
    yr[q + 3 * s] = d02r - d13i;
    yi[q + 3 * s] = d02i + d13r;
  }
}

const SIN_60 = Math.sqrt(3) / 2;

function radix3(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = twRe[3 * p + 1]!;
    const w1i = twIm[3 * p + 1]!;
    const w2r = twRe[3 * p + 2]!;
    const w2i = twIm[3 * p + 2]!;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const ar = xr[i0]!;
      const ai = xi[i0]!;
      const br = xr[i0 + sm]!;
      const bi = xi[i0 + sm]!;
      const cr = xr[i0 + 2 * sm]!;
      const ci = xi[i0 + 2 * sm]!;
      const tr = br + cr;
      const ti = bi + ci;
      const mr = ar - 0.5 * tr;
      const mi = ai - 0.5 * ti;
      // -i * sin(60) * (b - c)
      const nr = SIN_60 * (bi - ci);
      const ni = -SIN_60 * (br - cr);
      const out = q + s * 3 * p;
      yr[out] = ar + tr;
      yi[out] = ai + ti;
      const y1r = mr + nr;
      const y1i = mi + ni;
      yr[out + s] = y1r * w1r - y1i * w1i;
      yi[out + s] = y1r * w1i + y1i * w1r;
      const y2r = mr - nr;
      const y2i = mi - ni;
      yr[out + 2 * s] = y2r * w2r - y2i * w2i;
      yi[out + 2 * s] = y2r * w2i + y2i * w2r;
    }
  }
}

const C1 = Math.cos((2 * Math.PI) / 5);
const C2 = Math.cos((4 * Math.PI) / 5);
const S1 = Math.sin((2 * Math.PI) / 5);
const S2 = Math.sin((4 * Math.PI) / 5);

function radix5(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const base = 5 * p;
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      const x0r = xr[i0]!;
      const x0i = xi[i0]!;
      const x1r = xr[i0 + sm]!;
      const x1i = xi[i0 + sm]!;
      const x2r = xr[i0 + 2 * sm]!;
      const x2i = xi[i0 + 2 * sm]!;
      const x3r = xr[i0 + 3 * sm]!;
      const x3i = xi[i0 + 3 * sm]!;
      const x4r = xr[i0 + 4 * sm]!;
      const x4i = xi[i0 + 4 * sm]!;
      const a1r = x1r + x4r;
      const a1i = x1i + x4i;
      const b1r = x1r - x4r;
      const b1i = x1i - x4i;
      const a2r = x2r + x3r;
      const a2i = x2i + x3i;
      const b2r = x2r - x3r;
      const b2i = x2i - x3i;
      const m1r = x0r + C1 * a1r + C2 * a2r;
      const m1i = x0i + C1 * a1i + C2 * a2i;
      const m2r = x0r + C2 * a1r + C1 * a2r;
      const m2i = x0i + C2 * a1i + C1 * a2i;
      // X_k = m + (-i)(S1 b1 + S2 b2) etc.; -i (u + iv) = v - iu
      const n1r = S1 * b1i + S2 * b2i;
      const n1i = -(S1 * b1r + S2 * b2r);
      const n2r = S2 * b1i - S1 * b2i;
      const n2i = -(S2 * b1r - S1 * b2r);
      const out = q + s * base;
      yr[out] = x0r + a1r + a2r;
      yi[out] = x0i + a1i + a2i;
      twiddleStore(yr, yi, out + s, m1r + n1r, m1i + n1i, twRe[base + 1]!, twIm[base + 1]!);
      twiddleStore(yr, yi, out + 2 * s, m2r + n2r, m2i + n2i, twRe[base + 2]!, twIm[base + 2]!);
      twiddleStore(yr, yi, out + 3 * s, m2r - n2r, m2i - n2i, twRe[base + 3]!, twIm[base + 3]!);
      twiddleStore(yr, yi, out + 4 * s, m1r - n1r, m1i - n1i, twRe[base + 4]!, twIm[base + 4]!);
    }
  }
}

/** y[at] = (vr + i vi) * (wr + i wi) */
function twiddleStore(yr: Float64Array, yi: Float64Array, at: number, vr: number, vi: number, wr: number, wi: number): void {
  yr[at] = vr * wr - vi * wi;
  yi[at] = vr * wi + vi * wr;
}

function radixGeneric(
  st: Stage,
  s: number,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  ar: Float64Array,
  ai: Float64Array,
): void {
  const { radix: r, m, twRe, twIm } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    for (let q = 0; q < s; q++) {
      const i0 = q + s * p;
      for (let j = 0; j < r; j++) {
        ar[j] = xr[i0 + j * sm]!;
        ai[j] = xi[i0 + j * sm]!;
      }
      const out = q + s * r * p;
      for (let k = 0; k < r; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < r; j++) {
          const angle = (-2 * Math.PI * ((j * k) % r)) / r;
          const c = Math.cos(angle);
          const sn = Math.sin(angle);
          sr += ar[j]! * c - ai[j]! * sn;
          si += ar[j]! * sn + ai[j]! * c;
        }
        const wr = twRe[r * p + k]!;
        const wi = twIm[r * p + k]!;
        yr[out + k * s] = sr * wr - si * wi;
        yi[out + k * s] = sr * wi + si * wr;
      }
    }
  }
}

/** One-sided forward FFT of real frames of a fixed size: `size / 2 + 1` bins. */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  /** The complex FFT of size / 2 points (even sizes) or size points (odd). */
  readonly inner: ComplexFft;
  /** The split step's twiddles e^{-2 pi i k / N}, k < N/2 (empty for odd sizes). */
  readonly splitTwRe: Float64Array;
  readonly splitTwIm: Float64Array;
  private zRe: Float64Array;
  private zIm: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.bins = Math.floor(size / 2) + 1;
    const even = size % 2 === 0;
    const inner = even ? size / 2 : size;
    this.inner = new ComplexFft(inner);
    this.zRe = new Float64Array(inner);
    this.zIm = new Float64Array(inner);
    this.splitTwRe = new Float64Array(even ? inner : 0);
    this.splitTwIm = new Float64Array(even ? inner : 0);
    for (let k = 0; k < this.splitTwRe.length; k++) {
      this.splitTwRe[k] = Math.cos((-2 * Math.PI * k) / size);
      this.splitTwIm[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** Writes |X[k]|^2 for k = 0 .. size/2 of the real `frame` (length `size`) into `power` (length `bins`). */
  powerSpectrum(frame: Float64Array, power: Float64Array): void {
    this.powerSpectra(frame, 1, power);
  }

  /**
   * Power spectra of `batch` real frames stored interleaved (sample n of frame b at n * batch + b, length
   * size * batch) into `power` [bins, batch], interleaved the same way (bin k of frame b at k * batch + b).
   */
  powerSpectra(frames: Float64Array, batch: number, power: Float64Array): void {
    const { re, im, packed } = this.inputBuffers(batch);
    for (let n = 0; n < this.size; n++) {
      const target = packed && n % 2 === 1 ? im : re;
      const at = (packed ? n >> 1 : n) * batch;
      for (let b = 0; b < batch; b++) target[at + b] = frames[n * batch + b]!;
    }
    if (!packed) im.fill(0, 0, this.size * batch);
    this.powerSpectraInPlace(batch, power);
  }

  /**
   * The buffers powerSpectraInPlace reads, for callers that build frames in place (the STFT). Even sizes are
   * packed: sample n of frame b goes to (n even ? re : im)[(n >> 1) * batch + b]; odd sizes: re[n * batch + b]
   * with im all zero. The transform overwrites them, so write every position before each call.
   */
  inputBuffers(batch: number): { re: Float64Array; im: Float64Array; packed: boolean } {
    const length = this.inner.size * batch;
    if (this.zRe.length < length) {
      this.zRe = new Float64Array(length);
      this.zIm = new Float64Array(length);
    }
    return { re: this.zRe, im: this.zIm, packed: this.size % 2 === 0 };
  }

  /**
   * Power spectra [bins, batch] (bin k of frame b at k * batch + b) of the frames written into inputBuffers(batch):
   * the FFT's own interleaved layout, so every loop below reads and writes consecutive elements.
   */
  powerSpectraInPlace(batch: number, power: Float64Array): void {
    const input = this.inputBuffers(batch);
    const [zRe, zIm] = this.inner.transformBatch(input.re, input.im, batch);
    const bins = this.bins;
    if (this.size % 2 !== 0) {
      for (let k = 0; k < bins; k++) {
        for (let at = k * batch, end = at + batch; at < end; at++) power[at] = zRe[at]! * zRe[at]! + zIm[at]! * zIm[at]!;
      }
      return;
    }
    const half = this.inner.size;
    // k = 0 and k = N/2 from Z[0]: X[0] = Re + Im, X[N/2] = Re - Im.
    for (let b = 0; b < batch; b++) {
      const r0 = zRe[b]!;
      const i0 = zIm[b]!;
      power[b] = (r0 + i0) * (r0 + i0);
      power[half * batch + b] = (r0 - i0) * (r0 - i0);
    }
    // Bins k and N/2 - k come from the same pair Z[k], Z[N/2-k]: with e = (Z[k] + conj Z[N/2-k]) / 2,
    // o = (Z[k] - conj Z[N/2-k]) / 2 and t = w^k o:  X[k] = e - i t,  X[N/2-k] = conj(e) - i conj(t).
    for (let k = 1; k <= half >> 1; k++) {
      const wr = this.splitTwRe[k]!;
      const wi = this.splitTwIm[k]!;
      const at = k * batch;
      const mirror = (half - k) * batch;
      for (let b = 0; b < batch; b++) {
        const ar = zRe[at + b]!;
        const ai = zIm[at + b]!;
        const br = zRe[mirror + b]!;
        const bi = -zIm[mirror + b]!; // conj Z[N/2-k]
        const er = 0.5 * (ar + br);
        const ei = 0.5 * (ai + bi);
        const or = 0.5 * (ar - br);
        const oi = 0.5 * (ai - bi);
        const tr = or * wr - oi * wi;
        const ti = or * wi + oi * wr;
        power[at + b] = (er + ti) * (er + ti) + (ei - tr) * (ei - tr);
        power[mirror + b] = (er - ti) * (er - ti) + (ei + tr) * (ei + tr);
      }
    }
  }
}
