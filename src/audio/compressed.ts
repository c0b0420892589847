/**
 * Compressed formats (MP3, FLAC, Ogg Vorbis, Ogg Opus, and AAC in MP4/M4A or ADTS, Opus/Vorbis in WebM/Matroska,
 * CAF) through `audio-decode` (audiojs: WebAssembly builds of mpg123, libFLAC-compatible, libvorbis, libopus and
 * AAC decoders, a CAF reader; no native code, no install scripts; same code in Node and browsers). M4A, AAC,
 * WebM and CAF get no container walk of our own: what the library cannot decode is an error naming the file. The library's decoders return nothing, rather than an error,
 * for a truncated or corrupt stream, so before decoding we walk the container ourselves (FLAC metadata
 * blocks, Ogg pages, MPEG frames against a Xing/Info frame count) to say *what* is wrong, and after
 * decoding FLAC we compare the sample count with the one its STREAMINFO promises.
 * Opus always decodes at 48 kHz (the format has no other output rate); the encoder's input rate is lost.
 */
import decode from 'audio-decode';
import { formatBytes } from '../errors.js';
import { ascii, checkStreamHeader, decodeError, truncationWarning } from './chunks.js';
import type { DecodedAudio } from './decode.js';

export type CompressedFormat = 'mp3' | 'flac' | 'ogg/vorbis' | 'ogg/opus' | 'm4a' | 'aac' | 'webm' | 'caf';

const DECODERS = {
  mp3: decode.mp3,
  flac: decode.flac,
  'ogg/vorbis': decode.oga,
  'ogg/opus': decode.opus,
  m4a: decode.m4a,
  aac: decode.aac,
  webm: decode.webm,
  caf: decode.caf,
} as const;

const NAMES: Record<CompressedFormat, string> = {
  mp3: 'MP3',
  flac: 'FLAC',
  'ogg/vorbis': 'Ogg Vorbis',
  'ogg/opus': 'Ogg Opus',
  m4a: 'MP4/M4A',
  aac: 'AAC (ADTS)',
  webm: 'WebM/Matroska',
  caf: 'Core Audio (CAF)',
};

export async function decodeCompressed(bytes: Uint8Array, format: CompressedFormat, source: string): Promise<DecodedAudio> {
  const name = NAMES[format];
  const flac = format === 'flac' ? checkFlac(bytes, source) : null;
  // A truncated stream: the decoders decode the complete frames/pages, and the problem becomes a warning.
  let truncation: string | null = null;
  if (format === 'mp3') truncation = checkMpeg(bytes, source);
  if (format === 'ogg/vorbis' || format === 'ogg/opus') truncation = checkOgg(bytes);
  if (format === 'ogg/opus') checkOpusHead(bytes, source);
  const expectedSamples = flac?.totalSamples ?? null;

  let parts: Array<{ channelData: Float32Array[]; sampleRate: number }>;
  // libFLAC wants 'fLaC' first; mpg123 skips ID3v2 tags itself.
  const payload = format === 'flac' ? bytes.subarray(id3v2Length(bytes)) : bytes;
  const decoder = await DECODERS[format]();
  try {
    parts = [await decoder(payload), await decoder()];
  } catch (cause) {
    decoder.free();
    const message = cause instanceof Error ? cause.message : String(cause);
    throw decodeError(source, `the ${name} decoder failed: ${message} (corrupt file?)`);
  }
  parts = parts.filter((p) => p.channelData.length > 0 && (p.channelData[0]?.length ?? 0) > 0);
  const first = parts[0];
  if (!first) {
    throw decodeError(
      source,
      truncation ?? `the ${name} decoder found no audio in this ${formatBytes(bytes.length)} file (corrupt or truncated stream)`,
    );
  }
  // CAF stores the rate as a float64 (a damaged one can be 16000.0000001): whole Hz, as for AIFF.
  const sampleRateHz = Math.round(first.sampleRate);
  const channelCount = first.channelData.length;
  checkStreamHeader(source, `${name} stream`, channelCount, sampleRateHz);
  const channels = concatParts(parts, channelCount);
  const decoded = channels[0]?.length ?? 0;
  if (expectedSamples !== null && decoded < expectedSamples) {
    truncation = `${name} header promises ${expectedSamples} samples per channel but only ${decoded} decode (truncated or corrupt stream)`;
  }
  if (flac) for (const channel of channels) rescaleFlac(channel, flac.bitsPerSample);
  const warnings = truncation ? [truncationWarning(source, truncation, decoded / sampleRateHz)] : [];
  return { channels, sampleRateHz, format, warnings };
}

/**
 * The FLAC decoder divides b-bit integers by 2^(b-1) - 1; torchaudio (libFLAC via sox/ffmpeg) divides by
 * 2^(b-1), as we do for WAV. For b <= 24 the float32 quotient still pins the integer down (error < 0.07
 * of a step, measured on 8/16/24-bit files), so we recover it and divide again: FLAC then equals the WAV
 * it was made from exactly. 25..32-bit FLAC (rare) only gets the ratio applied.
 */
function rescaleFlac(samples: Float32Array, bitsPerSample: number): void {
  const full = 2 ** (bitsPerSample - 1);
  for (let i = 0; i < samples.length; i++) {
    const x = (samples[i] as number) * (full - 1);
    samples[i] = (bitsPerSample <= 24 ? Math.round(x) : x) / full;
  }
}

function concatParts(parts: Array<{ channelData: Float32Array[] }>, channelCount: number): Float32Array[] {
  if (parts.length === 1) return (parts[0] as { channelData: Float32Array[] }).channelData.slice(0, channelCount);
  const lengths = parts.map((p) => Math.min(...p.channelData.map((c) => c.length)));
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = Array.from({ length: channelCount }, () => new Float32Array(total));
  let at = 0;
  parts.forEach((p, k) => {
    const n = lengths[k] as number;
    for (let c = 0; c < channelCount; c++) {
      const src = p.channelData[c] ?? p.channelData[0];
      if (src) (out[c] as Float32Array).set(src.subarray(0, n), at);
    }
    at += n;
  });
  return out;
}

// ---------------------------------------------------------------------------------------- FLAC

/**
 * Walks the metadata blocks ('fLaC', then 4-byte block headers: last-block flag, type, 24-bit length)
 * and reads STREAMINFO (always first, 34 bytes): bits 80..99 sample rate, 100..102 channels - 1,
 * 103..107 bits per sample - 1, 108..143 total samples (0 = unknown). Returns the total or null.
 */
function checkFlac(bytes: Uint8Array, source: string): { totalSamples: number | null; bitsPerSample: number } {
  const start = id3v2Length(bytes);
  let at = start + 4;
  let totalSamples: number | null = null;
  let bitsPerSample = 0;
  for (;;) {
    if (at + 4 > bytes.length) throw decodeError(source, `FLAC metadata ends at byte ${at} of ${bytes.length} (truncated file)`);
    const header = bytes[at] as number;
    const length = ((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number);
    const body = at + 4;
    if (body + length > bytes.length) {
      throw decodeError(
        source,
        `FLAC metadata block at byte ${at} claims ${length} bytes but the file ends at ${bytes.length} (truncated file)`,
      );
    }
    if ((header & 0x7f) === 0 && length >= 34) {
      const b = (i: number) => bytes[body + i] as number;
      const sampleRateHz = (b(10) << 12) | (b(11) << 4) | (b(12) >> 4);
      const channels = ((b(12) >> 1) & 7) + 1;
      checkStreamHeader(source, 'FLAC STREAMINFO', channels, sampleRateHz);
      bitsPerSample = (((b(12) & 1) << 4) | (b(13) >> 4)) + 1;
      const samples = (b(13) & 0x0f) * 2 ** 32 + b(14) * 2 ** 24 + ((b(15) << 16) | (b(16) << 8) | b(17));
      totalSamples = samples > 0 ? samples : null;
    }
    at = body + length;
    if (header & 0x80) break;
  }
  if (bitsPerSample === 0) throw decodeError(source, 'FLAC file has no STREAMINFO block (corrupt header)');
  if (at >= bytes.length) throw decodeError(source, 'FLAC file has metadata but no audio frames (truncated file)');
  return { totalSamples, bitsPerSample };
}

// ----------------------------------------------------------------------------------------- Ogg

/**
 * Walks the Ogg pages ('OggS', version, flags, granule, serial, sequence, CRC, segment count, segment
 * table, body). A page running past the end, or a stream without an end-of-stream page, is truncated: the
 * problem is returned (the decoders decode the complete pages), null for an intact stream.
 * The decoders trim pre-skip/padding themselves, so no sample count is promised here.
 */
function checkOgg(bytes: Uint8Array): string | null {
  let at = 0;
  let pages = 0;
  let sawEnd = false;
  while (at + 27 <= bytes.length && ascii(bytes, at, 4) === 'OggS') {
    const segments = bytes[at + 26] as number;
    let body = 0;
    for (let i = 0; i < segments; i++) body += bytes[at + 27 + i] ?? 0;
    const end = at + 27 + segments + body;
    if (end > bytes.length)
      return `Ogg page ${pages} at byte ${at} runs past the end of the ${formatBytes(bytes.length)} file (truncated file)`;
    if ((bytes[at + 5] as number) & 0x04) sawEnd = true;
    pages++;
    at = end;
  }
  if (!sawEnd) {
    const where = at < bytes.length ? `unreadable data at byte ${at}` : 'the file ends';
    return `Ogg stream has no end-of-stream page (${where} after ${pages} pages; truncated or corrupt file)`;
  }
  return null;
}

/**
 * Checks the OpusHead packet (RFC 7845 section 5.1; the first page's payload): 'OpusHead', version, channel count
 * (byte 9), pre-skip, input rate, gain, channel mapping family (byte 18), then for families other than 0 the
 * stream count, coupled count and one mapping byte per channel. Family 0 allows 1 or 2 channels, 1 up to 8, 255
 * up to 255; a header that contradicts itself is refused here (the decoder library fails on it with a TypeError).
 */
function checkOpusHead(bytes: Uint8Array, source: string): void {
  const head = 27 + (bytes[26] ?? 0);
  const size = Math.min(
    bytes.length - head,
    Array.from(bytes.subarray(27, head)).reduce((a, b) => a + b, 0),
  );
  const channels = bytes[head + 9] ?? 0;
  const family = bytes[head + 18] ?? 0;
  const needed = family === 0 ? 19 : 21 + channels;
  const problem = (what: string) => decodeError(source, `Opus header (OpusHead) ${what} (corrupt header)`);
  if (size < 19) throw problem(`is ${size} bytes, 19 at least expected`);
  const limit = family === 0 ? 2 : family === 1 ? 8 : family === 255 ? 255 : null;
  if (limit === null) throw decodeError(source, `Opus channel mapping family ${family} is not supported (0, 1 or 255 expected)`);
  if (channels < 1 || channels > limit) throw problem(`says ${channels} channels; channel mapping family ${family} allows 1 to ${limit}`);
  if (size < needed) throw problem(`is ${size} bytes; with mapping family ${family} and ${channels} channels it needs ${needed}`);
}

/** Identifies the codec of an Ogg stream from the first page's payload. */
export function oggCodec(bytes: Uint8Array): string {
  const segments = bytes[26] ?? 0;
  const payload = 27 + segments;
  if (ascii(bytes, payload, 8) === 'OpusHead') return 'opus';
  if (ascii(bytes, payload + 1, 6) === 'vorbis' && bytes[payload] === 1) return 'vorbis';
  if (ascii(bytes, payload + 1, 4) === 'FLAC') return 'flac';
  if (ascii(bytes, payload, 8) === 'Speex   ') return 'speex';
  if (ascii(bytes, payload + 1, 6) === 'theora') return 'theora';
  return 'unknown';
}

// ---------------------------------------------------------------------------------------- MPEG

/** Size of an ID3v2 tag at the start (10-byte header + syncsafe size + optional footer), else 0. */
export function id3v2Length(bytes: Uint8Array): number {
  if (ascii(bytes, 0, 3) !== 'ID3' || bytes.length < 10) return 0;
  const size =
    (((bytes[6] as number) & 0x7f) << 21) |
    (((bytes[7] as number) & 0x7f) << 14) |
    (((bytes[8] as number) & 0x7f) << 7) |
    ((bytes[9] as number) & 0x7f);
  return 10 + size + ((bytes[5] as number) & 0x10 ? 10 : 0);
}

export interface MpegFrame {
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRateHz: number;
  channels: 1 | 2;
  /** Frame length in bytes, header included; 0 for free-format bitrate (length unknown). */
  length: number;
  samplesPerFrame: number;
}

// kbit/s by bitrate index 1..14, for [MPEG-1 L1, L2, L3] and [MPEG-2/2.5 L1, L2 & L3]
const BITRATES = {
  v1: [
    [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  v2: [
    [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
};
const SAMPLE_RATES = { 1: [44100, 48000, 32000], 2: [22050, 24000, 16000], 2.5: [11025, 12000, 8000] };

/** Where MPEG frames should start: after an ID3v2 tag and any zero padding. */
function mpegNominalStart(bytes: Uint8Array): number {
  let at = id3v2Length(bytes);
  while (at < bytes.length && at < 65536 && bytes[at] === 0) at++;
  return at;
}

/**
 * The first MPEG audio frame: a frame header at the nominal start, or else (a damaged first frame) the first
 * position within 64 KB of it where three frame headers chain (each frame's length leads to the next header;
 * random bytes almost never do). null when there is none.
 */
export function mpegStart(bytes: Uint8Array): number | null {
  const nominal = mpegNominalStart(bytes);
  if (parseMpegHeader(bytes, nominal)) return nominal;
  const end = Math.min(bytes.length, nominal + 65536);
  for (let p = nominal + 1; p < end; p++) {
    if (bytes[p] !== 0xff) continue;
    let q = p;
    let chained = 0;
    for (; chained < 3; chained++) {
      const frame = parseMpegHeader(bytes, q);
      if (!frame || frame.length === 0) break;
      q += frame.length;
    }
    if (chained === 3) return p;
  }
  return null;
}

/** Parses the 4-byte MPEG audio frame header at `at`, or returns null if there is none. */
export function parseMpegHeader(bytes: Uint8Array, at: number): MpegFrame | null {
  if (at + 4 > bytes.length) return null;
  const b1 = bytes[at + 1] as number;
  const b2 = bytes[at + 2] as number;
  const b3 = bytes[at + 3] as number;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 3;
  const layerBits = (b1 >> 1) & 3;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const sampleRateHz = SAMPLE_RATES[version][rateIndex] as number;
  const padding = (b2 >> 1) & 1;
  const table = version === 1 ? BITRATES.v1[layer - 1] : BITRATES.v2[layer === 1 ? 0 : 1];
  const kbps = bitrateIndex === 0 ? 0 : ((table as number[])[bitrateIndex - 1] as number);
  const samplesPerFrame = layer === 1 ? 384 : layer === 3 && version !== 1 ? 576 : 1152;
  const slot = layer === 1 ? 4 : 1;
  const length = kbps === 0 ? 0 : (Math.floor(((samplesPerFrame / 8) * kbps * 1000) / sampleRateHz / slot) + padding) * slot;
  return { version, layer, sampleRateHz, channels: b3 >> 6 === 3 ? 1 : 2, length, samplesPerFrame };
}

/**
 * Walks the MPEG frames from the first one. A frame running past the end of the file is truncation, returned as
 * the problem (mpg123 decodes the complete frames); null for an intact stream.
 * A Xing/Info header (LAME, ffmpeg) states the frame count; when the walk ends cleanly (end of file or
 * an ID3v1/APE/Lyrics tag) with fewer frames than that, the file was cut at a frame boundary. (The
 * decoded sample count is not compared: encoder delay and padding trimming differ between decoders.)
 */
function checkMpeg(bytes: Uint8Array, source: string): string | null {
  const nominal = mpegNominalStart(bytes);
  const at = mpegStart(bytes);
  const first = at === null ? null : parseMpegHeader(bytes, at);
  if (at === null || !first) throw decodeError(source, `no MPEG audio frame at byte ${nominal} (corrupt MP3)`);
  // mpg123 resynchronises past damaged bytes itself; say what was skipped.
  const skipped =
    at > nominal ? `the first ${at - nominal} bytes of MPEG data are damaged (no frame sync before byte ${at}); skipped` : null;
  checkStreamHeader(source, 'MP3 frame header', first.channels, first.sampleRateHz);
  if (first.length === 0) return skipped; // free-format bitrate: frame lengths unknown, leave it to the decoder

  // Xing/Info tag: after the 4-byte header and the side information (MPEG-1: 32 bytes stereo, 17 mono;
  // MPEG-2/2.5: 17 stereo, 9 mono). Flag bit 0 = frame count present (big-endian u32 after the flags).
  const sideInfo = first.version === 1 ? (first.channels === 2 ? 32 : 17) : first.channels === 2 ? 17 : 9;
  const tag = at + 4 + sideInfo;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hasXing = tag + 12 <= bytes.length && ['Xing', 'Info'].includes(ascii(bytes, tag, 4)) && (view.getUint32(tag + 4) & 1) === 1;
  const xingFrames = hasXing ? view.getUint32(tag + 8) : null;

  let frames = 0;
  let p = at;
  for (;;) {
    const frame = parseMpegHeader(bytes, p);
    if (!frame || frame.length === 0) break;
    if (p + frame.length > bytes.length) {
      return `MP3 frame ${frames} at byte ${p} needs ${frame.length} bytes but the file ends at ${bytes.length} (truncated file)`;
    }
    frames++;
    p += frame.length;
  }
  const cleanEnd = p === bytes.length || ['TAG', 'APE', 'LYR'].includes(ascii(bytes, p, 3));
  // The Xing/Info frame carries no audio; whether writers count it differs (ffmpeg does not), so one
  // frame of slack: a file cut exactly one frame short at a frame boundary goes unnoticed.
  const audioFrames = frames - 1;
  if (xingFrames !== null && cleanEnd && audioFrames < xingFrames - 1) {
    return `MP3 Xing/Info header promises ${xingFrames} frames but the file holds ${audioFrames} (truncated file)`;
  }
  return skipped;
}
