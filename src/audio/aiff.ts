/**
 * AIFF and AIFF-C parser, hand-written (simple format parsing, like wav.ts). Big-endian IFF chunks;
 * COMM gives channels, frame count, sample size and the sample rate as an 80-bit IEEE extended float;
 * SSND holds the interleaved samples after an offset/blockSize pair. AIFF samples are big-endian signed
 * integers (8-bit ones signed too, unlike WAV); AIFF-C adds a compression type, of which we decode the
 * uncompressed ones: NONE/twos (big-endian), sowt (little-endian), in24/in32, 42ni/23ni (little-endian
 * 24/32), fl32/fl64 (big-endian float), raw (unsigned 8-bit), and G.711 alaw/ulaw.
 */
import { formatBytes } from '../errors.js';
import { ascii, checkStreamHeader, decodeError, listChunks, truncationWarning } from './chunks.js';
import type { DecodedAudio } from './decode.js';
import { type PcmLayout, decodeLayout } from './wav.js';
import { type SampleEncoding, encodingLabel } from './pcm.js';

export function decodeAiff(bytes: Uint8Array, source: string): DecodedAudio {
  return decodeLayout(bytes, aiffLayout(bytes, source));
}

/** Where the samples of an AIFF/AIFF-C file are (wav.ts PcmLayout; `bytes` may be a prefix of `fileLength`). */
export function aiffLayout(bytes: Uint8Array, source: string, fileLength = bytes.length): PcmLayout {
  const isAifc = ascii(bytes, 8, 4) === 'AIFC';
  const kind = isAifc ? 'AIFF-C' : 'AIFF';
  const chunks = listChunks(bytes, 12, true);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const comm = chunks.find((c) => c.id === 'COMM');
  if (!comm || comm.size < 18 || comm.start + 18 > bytes.length) {
    throw decodeError(source, `${kind} file has no complete COMM chunk (truncated or corrupt)`);
  }
  // numChannels is a signed short in the spec; read unsigned so 0xffff is reported as 65535, not -1.
  const channels = view.getUint16(comm.start, false);
  const frames = view.getUint32(comm.start + 2, false);
  const sampleBits = view.getInt16(comm.start + 6, false);
  // Rates are stored as floats; rounded to whole Hz as torchaudio reports them (and resample needs).
  const rate = readExtended80(view, comm.start + 8);
  if (!Number.isFinite(rate))
    throw decodeError(source, `${kind} COMM chunk says the sample rate is infinite or not a number (corrupt header)`);
  const sampleRateHz = Math.round(rate);
  checkStreamHeader(source, `${kind} COMM chunk`, channels, sampleRateHz);

  let compression = 'NONE';
  if (isAifc) {
    if (comm.size < 22 || comm.start + 22 > bytes.length) {
      throw decodeError(source, 'AIFF-C COMM chunk has no compression type (corrupt header)');
    }
    compression = ascii(bytes, comm.start + 18, 4);
  }
  const encoding = aiffEncoding(compression, sampleBits, source);

  const ssnd = chunks.find((c) => c.id === 'SSND');
  const layout = { channels, sampleRateHz, encoding, format: label(isAifc, encoding) };
  if (!ssnd) {
    if (frames === 0) return { ...layout, dataStart: 0, frames: 0, warnings: [] };
    throw decodeError(source, `${kind} file has no SSND (sound data) chunk (truncated or corrupt)`);
  }
  const dataOffset = ssnd.start + 8 + (ssnd.start + 8 <= bytes.length ? view.getUint32(ssnd.start, false) : 0);
  const frameBytes = channels * encoding.bytes;
  const needed = frames * frameBytes;
  const held = Math.min(ssnd.size - 8, fileLength - dataOffset);
  const warnings: string[] = [];
  let decodedFrames = frames;
  if (needed > held) {
    const problem =
      `COMM chunk promises ${frames} frames (${formatBytes(needed)}) but the SSND chunk holds ` +
      `${formatBytes(Math.max(held, 0))} in a ${formatBytes(fileLength)} file (truncated or corrupt: re-download or re-export it)`;
    // Truncated: decode the whole frames that are there, as ffmpeg and sox do; nothing there is an error.
    if (held < frameBytes) throw decodeError(source, problem);
    decodedFrames = Math.floor(held / frameBytes);
    warnings.push(truncationWarning(source, problem, decodedFrames / sampleRateHz));
  }
  return { ...layout, dataStart: dataOffset, frames: decodedFrames, warnings };
}

function label(isAifc: boolean, encoding: SampleEncoding): string {
  const endian = encoding.kind === 'int' && encoding.bytes > 1 && !encoding.bigEndian ? 'le' : '';
  return `${isAifc ? 'aifc' : 'aiff'}/${encodingLabel(encoding)}${endian}`;
}

function aiffEncoding(compression: string, sampleBits: number, source: string): SampleEncoding {
  const intBytes = Math.ceil(sampleBits / 8);
  switch (compression) {
    case 'NONE':
    case 'twos':
    case 'sowt': {
      if (intBytes < 1 || intBytes > 4) {
        throw decodeError(source, `AIFF sample size ${sampleBits} bits is not supported (1 to 32 expected)`);
      }
      const bytes = intBytes as 1 | 2 | 3 | 4;
      return { kind: 'int', bytes, bigEndian: compression !== 'sowt' };
    }
    case 'in24':
      return { kind: 'int', bytes: 3, bigEndian: true };
    case 'in32':
      return { kind: 'int', bytes: 4, bigEndian: true };
    case '42ni':
      return { kind: 'int', bytes: 3, bigEndian: false };
    case '23ni':
      return { kind: 'int', bytes: 4, bigEndian: false };
    case 'fl32':
    case 'FL32':
      return { kind: 'float', bytes: 4, bigEndian: true };
    case 'fl64':
    case 'FL64':
      return { kind: 'float', bytes: 8, bigEndian: true };
    case 'raw ':
      return { kind: 'uint', bytes: 1 };
    case 'alaw':
    case 'ALAW':
      return { kind: 'alaw', bytes: 1 };
    case 'ulaw':
    case 'ULAW':
      return { kind: 'ulaw', bytes: 1 };
    default:
      throw decodeError(
        source,
        `AIFF-C compression '${compression}' is not supported; convert the file to PCM first, ` +
          'e.g. `ffmpeg -i in.aifc -c:a pcm_s16le out.wav`',
      );
  }
}

/**
 * 80-bit IEEE 754 extended precision (big-endian): sign bit, 15-bit exponent biased by 16383, 64-bit
 * mantissa with an explicit integer bit: value = mantissa * 2^(exponent - 16383 - 63).
 * 16000 Hz is 40 0c fa 00 00 00 00 00 00 00. Returns NaN for infinities and NaNs (exponent 0x7fff).
 */
export function readExtended80(view: DataView, offset: number): number {
  const signExponent = view.getUint16(offset, false);
  const exponent = signExponent & 0x7fff;
  const mantissa = view.getUint32(offset + 2, false) * 2 ** 32 + view.getUint32(offset + 6, false);
  if (exponent === 0x7fff) return Number.NaN;
  if (exponent === 0 && mantissa === 0) return 0;
  const value = mantissa * 2 ** (exponent - 16383 - 63);
  return signExponent & 0x8000 ? -value : value;
}
