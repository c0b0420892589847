/**
 * Power -> decibels, torchaudio.transforms.AmplitudeToDB('power', top_db) (amin 1e-10, ref 1, db_multiplier 0):
 *     dB = 10 log10(max(x, 1e-10))                         silence -> -100 dB
 *     with topDb: dB = max(dB, max over the clip of dB - topDb)
 * The clamp uses the maximum over the whole clip, as AmplitudeToDB does for one [1, n_mels, T] input. The front
 * end's WebAssembly kernel computes the same dB in float32 (wasm/stft-kernel.ts `decibels`); these are the
 * TypeScript reference loops.
 */
export const AMIN = 1e-10;
const DB_PER_NEPER = 10 / Math.LN10;

/**
 * Replaces each value by its dB, the value first rounded to float32 as a spectrogram stores power; returns the
 * largest dB (NaN ignored; -Infinity for none), for clampTopDb.
 */
export function decibelsInPlace(values: Float32Array | Float64Array): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const value = DB_PER_NEPER * Math.log(Math.max(Math.fround(values[i]!), AMIN)); // 10 log10(x), Math.log is ~2x faster
    values[i] = value;
    if (value > max) max = value;
  }
  return max;
}

/**
 * AmplitudeToDB's top_db clamp in place: values below (max - topDb) are raised to it; `max` is the window's
 * largest value (computed when not given).
 */
export function clampTopDb(window: Float32Array, topDb: number, max?: number): Float32Array {
  let peak = max ?? Number.NEGATIVE_INFINITY;
  if (max === undefined) for (let i = 0; i < window.length; i++) if (window[i]! > peak) peak = window[i]!;
  const floor = Math.fround(peak - topDb);
  for (let i = 0; i < window.length; i++) if (window[i]! < floor) window[i] = floor;
  return window;
}

/** New Float32Array of decibels for `power` (any layout: the top_db maximum is taken over all of it). */
export function powerToDb(power: Float32Array, topDb: number | null): Float32Array {
  const db = Float32Array.from(power);
  const max = decibelsInPlace(db);
  if (topDb !== null) clampTopDb(db, topDb, max);
  return db;
}
