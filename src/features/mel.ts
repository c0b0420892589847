/**
 * Mel filter bank, torchaudio.functional.melscale_fbanks semantics (torchaudio 0.13):
 *   freqs   = linspace(0, sample_rate // 2, n_freqs)                       FFT bin centres, Hz      [n_freqs]
 *   m_pts   = linspace(hzToMel(f_min), hzToMel(f_max), n_mels + 2)         band edges, mel          [n_mels + 2]
 *   f_pts   = melToHz(m_pts)                                               band edges, Hz           [n_mels + 2]
 *   fb[f,m] = max(0, min((freqs[f] - f_pts[m]) / (f_pts[m+1] - f_pts[m]),      rising edge
 *                        (f_pts[m+2] - freqs[f]) / (f_pts[m+2] - f_pts[m+1])))  falling edge           [n_freqs, n_mels]
 *   norm 'slaney': fb[:, m] *= 2 / (f_pts[m+2] - f_pts[m])                 equal area per band
 *
 * Parity: torchaudio evaluates everything after hzToMel in float32 tensors, and float32 band edges differ from
 * exact ones by ~1e-3 Hz, which moves weights by ~1e-5 (measured). So we replay torch's float32 arithmetic: every
 * intermediate goes through Math.fround, and torchLinspaceFloat32 reproduces torch's CPU linspace bit for bit.
 * Result (test/features/mel.test.ts): HTK banks bit-identical to torchaudio, Slaney within 1 float32 ulp (torch's
 * vectorised exp differs from the correctly rounded one by 1 ulp at times).
 */
import type { MelScale } from './config.js';

/** Rounds an intermediate result: identity for float64 math, Math.fround to replay torch float32 tensors. */
type Round = (x: number) => number;
const exact: Round = (x) => x;
const f32: Round = Math.fround;

const SLANEY_F_SP = 200 / 3; // Hz per mel below 1 kHz
const SLANEY_MIN_LOG_HZ = 1000;
const SLANEY_MIN_LOG_MEL = SLANEY_MIN_LOG_HZ / SLANEY_F_SP; // 15
const SLANEY_LOGSTEP = Math.log(6.4) / 27; // 27 mels per factor 6.4 above 1 kHz

/** Hz <-> mel, one formula per scale (`toHz` takes the rounding of its intermediates, float64 by default). */
export const HERTZ_TO_MEL: Record<MelScale, { toMel(hz: number): number; toHz(mel: number, round?: Round): number }> = {
  // HTK (O'Shaughnessy 1987): mel = 2595 log10(1 + f / 700)
  htk: {
    toMel: (hz) => 2595 * Math.log10(1 + hz / 700),
    toHz: (mel, r = exact) => r(700 * r(r(10 ** r(mel / 2595)) - 1)),
  },
  // Slaney (Auditory Toolbox; librosa htk=False): linear 200/3 Hz per mel below 1 kHz, logarithmic above.
  slaney: {
    toMel: (hz) => (hz < SLANEY_MIN_LOG_HZ ? hz / SLANEY_F_SP : SLANEY_MIN_LOG_MEL + Math.log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP),
    toHz: (mel, r = exact) =>
      mel < r(SLANEY_MIN_LOG_MEL)
        ? r(r(SLANEY_F_SP) * mel)
        : r(SLANEY_MIN_LOG_HZ * r(Math.exp(r(r(SLANEY_LOGSTEP) * r(mel - r(SLANEY_MIN_LOG_MEL)))))),
  },
};

export interface MelFilterBankOptions {
  readonly nFreqs: number;
  readonly nMels: number;
  readonly sampleRateHz: number;
  readonly fMinHz: number;
  readonly fMaxHz: number;
  readonly melScale: MelScale;
  readonly norm: 'slaney' | null;
}

/** The bank as a dense matrix (for graphs) and per band its nonzero bin range (for the fast CPU path). */
export interface MelFilterBank {
  readonly nFreqs: number;
  readonly nMels: number;
  /** [nFreqs, nMels] row-major: mel = power @ matrix (torchaudio's layout). */
  readonly matrix: Float32Array;
  /** Band m is nonzero only on bins [firstBin[m], endBin[m]); empty bands have firstBin == endBin. */
  readonly firstBin: Int32Array;
  readonly endBin: Int32Array;
  /** Band m's weights for bins firstBin[m] .. endBin[m]-1, concatenated; band m starts at weightOffset[m]. */
  readonly weights: Float32Array;
  readonly weightOffset: Int32Array;
  /** Bands with no nonzero weight (too many mels for n_fft; torchaudio warns about them). */
  readonly emptyBands: number;
}

/**
 * torch.linspace(start, end, steps) in float32 on CPU, bit for bit (torch 1.13, AVX2 kernel): step = (end -
 * start) / (steps - 1) in float32; elements below steps / 2 count up from start, the others down from end; the
 * kernel fills vectors of 8 whose first element is a fused multiply-add (start + step * i, one rounding) and whose
 * lanes add step * lane; the last steps % 16 elements are computed one by one with the fused formula.
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  const fused = (i: number) => (i < half ? f32(s + step * i) : f32(e - step * (steps - i - 1)));
  const vectorised = steps - (steps % 16);
  for (let i = 0; i < steps; i++) {
    if (i >= vectorised) {
      out[i] = fused(i);
      continue;
    }
    const lane = i % 8;
    const base = fused(i - lane);
    out[i] = lane === 0 ? base : f32(base + f32(step * lane));
  }
  return out;
}

export function melFilterBank(options: MelFilterBankOptions): MelFilterBank {
  const { nFreqs, nMels, sampleRateHz, fMinHz, fMaxHz, melScale, norm } = options;
  const scale = HERTZ_TO_MEL[melScale];
  const freqs = torchLinspaceFloat32(0, Math.floor(sampleRateHz / 2), nFreqs);
  const melPoints = torchLinspaceFloat32(scale.toMel(fMinHz), scale.toMel(fMaxHz), nMels + 2);
  const edges = melPoints.map((mel) => scale.toHz(mel, f32));
  const matrix = new Float32Array(nFreqs * nMels);
  const firstBin = new Int32Array(nMels);
  const endBin = new Int32Array(nMels);
  const weightOffset = new Int32Array(nMels);
  const sparse: number[] = [];
  let emptyBands = 0;
  for (let m = 0; m < nMels; m++) {
    const lower = edges[m]!;
    const centre = edges[m + 1]!;
    const upper = edges[m + 2]!;
    const enorm = norm === 'slaney' ? f32(2 / f32(upper - lower)) : 1;
    let first = -1;
    let end = -1;
    weightOffset[m] = sparse.length;
    for (let f = 0; f < nFreqs; f++) {
      const rising = f32(f32(freqs[f]! - lower) / f32(centre - lower));
      const falling = f32(f32(upper - freqs[f]!) / f32(upper - centre));
      const weight = f32(Math.max(0, Math.min(rising, falling)) * enorm);
      matrix[f * nMels + m] = weight;
      if (weight > 0) {
        if (first < 0) first = f;
        // A triangle has no inner zeros, but store any so the sparse and dense forms stay identical.
        for (let g = end < 0 ? f : end; g < f; g++) sparse.push(matrix[g * nMels + m]!);
        sparse.push(weight);
        end = f + 1;
      }
    }
    if (first < 0) {
      emptyBands++;
      first = end = 0;
    }
    firstBin[m] = first;
    endBin[m] = end;
  }
  return { nFreqs, nMels, matrix, firstBin, endBin, weights: Float32Array.from(sparse), weightOffset, emptyBands };
}
