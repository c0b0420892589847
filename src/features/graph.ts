/**
 * The front end as ONNX graph nodes, built from the same precomputed numbers as the CPU path (LogMelFrontEnd's
 * window, windowed DFT basis and mel filter bank), for the end-to-end exported model and the browser:
 *
 *     waveform [B, L]                                                    float32, L fixed when the graph is built
 *     Gather(reflect indices)          -> padded [B, L + 2 floor(nFft/2)]   center=True, pad_mode='reflect'
 *     Reshape                          -> [B, 1, 1, Lp]
 *     Conv(W [2F, 1, 1, nFft], stride hop) -> [B, 2F, 1, T]               rows 0..F-1: window * cos, F..2F-1: -window * sin
 *     Reshape, Slice, Mul, Add         -> power [B, F, T]                 re^2 + im^2
 *     MatMul(melT [M, F], power)       -> mel [B, M, T]
 *     Where(Less(mel, 1e-10)), Log, Mul(10 / ln 10)   -> dB
 *     ReduceMax over (M, T), Sub(topDb), Where(Less)  -> per-clip top_db clamp (when topDb is not null)
 *
 * The convolution is a dense DFT (2F x nFft multiply-adds per frame), slower than the FFT of the CPU path but one
 * standard op every ONNX runtime has: batched 32 on one ORT thread it measured 3.3 CPU ms per 3 s clip against
 * the CPU path's 1.3 (docs/benchmark-log.md, feature extraction, run D), so feature extraction (the feature cache,
 * ser predict) runs LogMelFrontEnd and these nodes serve the end-to-end export and browsers. Float32 accumulation over nFft terms: parity with the CPU path is stated in
 * test/features/graph.test.ts.
 */
import { type Tensor, add, conv2d, gather, less, log, matmul, mul, reduceMax, reshape, slice, sub, where } from '../graph/index.js';
import { AMIN } from './db.js';
import type { LogMelFrontEnd } from './front-end.js';
import { reflectIndex } from './stft-kernel.js';

/**
 * Appends the log-mel of `waveform` [B, L] (float32, 16 kHz or the front end's rate) to its graph.
 * @returns dB log-mel [B, nMels, frames]; frames = frontEnd.framesFor(L).
 */
export function logMelNodes(waveform: Tensor, frontEnd: LogMelFrontEnd): Tensor {
  const g = waveform.graph;
  const [batch, length] = waveform.shape as [number, number];
  const { nFft, hopLength, nMels, topDb } = frontEnd.config;
  const nFreqs = frontEnd.nFreqs;
  const pad = Math.floor(nFft / 2);
  const indices = BigInt64Array.from({ length: length + 2 * pad }, (_, i) => BigInt(reflectIndex(i - pad, length)));
  const padded = gather(waveform, g.constant(indices, [indices.length], 'int64', 'reflect_indices'), 1);

  const frames = frontEnd.framesFor(length);
  const spectrum = conv2d(
    reshape(padded, [batch, 1, 1, length + 2 * pad]),
    g.constant(stftKernel(frontEnd), [2 * nFreqs, 1, 1, nFft], 'float32', 'stft_basis'),
    null,
    { strides: [1, hopLength] },
  );
  const parts = reshape(spectrum, [batch, 2 * nFreqs, frames]);
  const re = slice(parts, [0], [nFreqs], [1]);
  const im = slice(parts, [nFreqs], [2 * nFreqs], [1]);
  const power = add(mul(re, re), mul(im, im)); // [B, F, T]

  const mel = matmul(g.constant(melBankTransposed(frontEnd), [nMels, nFreqs], 'float32', 'mel_filter_bank'), power); // [B, M, T]

  const clamped = where(less(mel, AMIN), AMIN, mel);
  const db = mul(log(clamped), 10 / Math.LN10);
  if (topDb === null) return db;
  const floor = sub(reduceMax(db, [1, 2], true), topDb);
  return where(less(db, floor), floor, db);
}

/**
 * The STFT as a convolution kernel [2F, 1, 1, nFft] (F = nFreqs): row f < F holds window[n] cos(2 pi n f / nFft),
 * row F + f holds -window[n] sin(2 pi n f / nFft) (LogMelFrontEnd.windowedDftBasis, transposed). Shared by
 * logMelNodes and the end-to-end export (src/export), so both run the CPU path's numbers.
 */
export function stftKernel(frontEnd: LogMelFrontEnd): Float32Array {
  const { nFft } = frontEnd.config;
  const nFreqs = frontEnd.nFreqs;
  const { real, imag } = frontEnd.windowedDftBasis(); // [nFft, F] each
  const kernel = new Float32Array(2 * nFreqs * nFft);
  for (let n = 0; n < nFft; n++) {
    for (let f = 0; f < nFreqs; f++) {
      kernel[f * nFft + n] = real[n * nFreqs + f]!;
      kernel[(nFreqs + f) * nFft + n] = imag[n * nFreqs + f]!;
    }
  }
  return kernel;
}

/** The mel filter bank transposed, [nMels, F] row-major: mel [M, T] = bankT @ power [F, T]. */
export function melBankTransposed(frontEnd: LogMelFrontEnd): Float32Array {
  const { nMels } = frontEnd.config;
  const nFreqs = frontEnd.nFreqs;
  const bank = frontEnd.filterBank.matrix; // [F, M]
  const bankT = new Float32Array(nMels * nFreqs);
  for (let f = 0; f < nFreqs; f++) for (let m = 0; m < nMels; m++) bankT[m * nFreqs + f] = bank[f * nMels + m]!;
  return bankT;
}
