/**
 * Power -> decibels, torchaudio.transforms.AmplitudeToDB('power', top_db) (amin 1e-10, ref 1, db_multiplier 0):
 *     dB = 10 log10(max(x, 1e-10))                         silence -> -100 dB
 *     with topDb: dB = max(dB, max over the clip of dB - topDb)
 * The clamp uses the maximum over the whole clip, as AmplitudeToDB does for one [1, n_mels, T] input.
 */
export const AMIN = 1e-10;
const DB_PER_NEPER = 10 / Math.LN10;

/** New Float32Array of decibels for `power` (any layout: the top_db maximum is taken over all of it). */
export function powerToDb(power: Float32Array, topDb: number | null): Float32Array {
  const db = new Float32Array(power.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < power.length; i++) {
    const value = DB_PER_NEPER * Math.log(Math.max(power[i]!, AMIN)); // 10 log10(x), Math.log is ~2x faster
    db[i] = value;
    if (value > max) max = value;
  }
  if (topDb !== null && power.length > 0) {
    const floor = Math.fround(max - topDb);
    for (let i = 0; i < db.length; i++) if (db[i]! < floor) db[i] = floor;
  }
  return db;
}
