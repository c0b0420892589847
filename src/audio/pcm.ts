/**
 * Uncompressed sample decoding shared by the WAV and AIFF parsers: interleaved PCM bytes -> one
 * Float32Array per channel, scaled like torchaudio.load(normalize=True):
 *   unsigned 8-bit  (x - 128) / 128          (WAV 8-bit)
 *   signed N-byte   x / 2^(8N - 1)           (int8 / 128, int16 / 32768, int24 / 2^23, int32 / 2^31)
 *   float 32/64     as stored, cast to float32
 *   G.711 A-law/µ-law  expanded to int16, then / 32768
 * Integer samples narrower than their container (12 bits in 16, 20 or 24 in 32) are left-justified by
 * WAV and AIFF alike, so dividing by the container's full scale is right for them too.
 */

export type SampleEncoding =
  | { kind: 'uint'; bytes: 1 }
  | { kind: 'int'; bytes: 1 | 2 | 3 | 4; bigEndian: boolean }
  | { kind: 'float'; bytes: 4 | 8; bigEndian: boolean }
  | { kind: 'alaw' | 'ulaw'; bytes: 1 };

/** Short label used in DecodedAudio.format: 'pcm16', 'pcmu8', 'float32', 'alaw', ... */
export function encodingLabel(encoding: SampleEncoding): string {
  switch (encoding.kind) {
    case 'uint':
      return 'pcmu8';
    case 'int':
      return `pcm${encoding.bytes * 8}`;
    case 'float':
      return `float${encoding.bytes * 8}`;
    default:
      return encoding.kind;
  }
}

/**
 * Deinterleaves `frames` frames of `channels` samples starting at `offset` in `bytes`.
 * The caller guarantees offset + frames * channels * encoding.bytes <= bytes.length.
 */
export function deinterleave(
  bytes: Uint8Array,
  offset: number,
  frames: number,
  channels: number,
  encoding: SampleEncoding,
): Float32Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, frames * channels * encoding.bytes);
  const read = sampleReader(view, encoding);
  const out: Float32Array[] = [];
  for (let c = 0; c < channels; c++) out.push(new Float32Array(frames));
  for (let c = 0; c < channels; c++) {
    const channel = out[c] as Float32Array;
    for (let i = 0, index = c; i < frames; i++, index += channels) channel[i] = read(index);
  }
  return out;
}

/** Returns a function from interleaved sample index to its float value. */
function sampleReader(view: DataView, encoding: SampleEncoding): (index: number) => number {
  switch (encoding.kind) {
    case 'uint':
      return (i) => (view.getUint8(i) - 128) / 128;
    case 'alaw':
      return (i) => alawToInt16(view.getUint8(i)) / 32768;
    case 'ulaw':
      return (i) => ulawToInt16(view.getUint8(i)) / 32768;
    case 'float': {
      const little = !encoding.bigEndian;
      return encoding.bytes === 4 ? (i) => view.getFloat32(i * 4, little) : (i) => view.getFloat64(i * 8, little);
    }
    case 'int': {
      const little = !encoding.bigEndian;
      switch (encoding.bytes) {
        case 1:
          return (i) => view.getInt8(i) / 128;
        case 2:
          return (i) => view.getInt16(i * 2, little) / 32768;
        case 3:
          return little
            ? (i) => ((view.getInt8(i * 3 + 2) << 16) | view.getUint16(i * 3, true)) / 8388608
            : (i) => ((view.getInt8(i * 3) << 16) | view.getUint16(i * 3 + 1, false)) / 8388608;
        case 4:
          return (i) => view.getInt32(i * 4, little) / 2147483648;
      }
    }
  }
}

/** ITU-T G.711 A-law byte -> 16-bit linear (the reference expansion, as in sox/ffmpeg). */
export function alawToInt16(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a & 0x70) >> 4;
  let magnitude = (a & 0x0f) << 4;
  magnitude += exponent === 0 ? 8 : 0x108;
  if (exponent > 1) magnitude <<= exponent - 1;
  return a & 0x80 ? magnitude : -magnitude;
}

/** ITU-T G.711 µ-law byte -> 16-bit linear (the reference expansion, as in sox/ffmpeg). */
export function ulawToInt16(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u & 0x70) >> 4;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return u & 0x80 ? 0 - magnitude : magnitude; // 0 - 0 is +0, as in the integer tables
}
