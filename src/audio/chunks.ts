/**
 * What the WAV (RIFF) and AIFF (IFF) parsers share: chunk walking, header sanity checks and the
 * decode error. Both formats are a 12-byte header followed by chunks of `id (4 ASCII) + size (u32) +
 * payload`, padded to an even length; RIFF stores sizes little-endian, IFF big-endian.
 */
import { SerError } from '../errors.js';

export interface Chunk {
  /** Four-character chunk id, e.g. 'fmt ', 'data', 'COMM', 'SSND'. */
  id: string;
  /** Offset of the payload (just after the 8-byte chunk header). */
  start: number;
  /** Payload size the chunk header declares; it may exceed the bytes left in a truncated or streamed file. */
  size: number;
}

/** An EDECODE error naming the source: `decode: <source>: <problem>`. */
export function decodeError(source: string, problem: string): SerError {
  return new SerError('EDECODE', 'decode', `${source}: ${problem}`);
}

/**
 * The warning of a truncated file decoded as far as it goes (as ffmpeg and sox do):
 * `decode: <source>: <problem>; decoded the 1.234 s that are there`.
 */
export function truncationWarning(source: string, problem: string, decodedS: number): string {
  return `decode: ${source}: ${problem}; decoded the ${decodedS.toFixed(3)} s that are there`;
}

export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

/** A chunk id is four printable ASCII characters (space allowed, as in 'fmt '). */
function plausibleId(bytes: Uint8Array, offset: number): boolean {
  if (offset + 8 > bytes.length) return false;
  for (let i = offset; i < offset + 4; i++) {
    const c = bytes[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * Lists the chunks from `offset` to the end of the file. The walk stops at the first chunk whose
 * declared size runs past the end (listed, so the caller can decide: truncated, or a streamed file
 * whose writer never filled in the size) and at trailing bytes that are not a chunk header (zero
 * padding, junk). Odd-sized chunks are followed by a pad byte; writers that forget it are tolerated:
 * when the padded position holds no chunk id but the unpadded one does, the unpadded one is used.
 */
export function listChunks(bytes: Uint8Array, offset: number, bigEndian: boolean): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  let at = offset;
  while (plausibleId(bytes, at)) {
    const id = ascii(bytes, at, 4);
    const size = view.getUint32(at + 4, !bigEndian);
    const start = at + 8;
    chunks.push({ id, start, size });
    const end = start + size;
    if (end > bytes.length) break;
    at = end + (size & 1);
    if (size & 1 && !plausibleId(bytes, at) && plausibleId(bytes, end)) at = end;
  }
  return chunks;
}

/**
 * Rejects headers no real recording has: 0 channels, a sample rate of 0 Hz or a NaN, a rate outside
 * 1 kHz..1 MHz (speech is 8-48 kHz; the bounds only catch garbage), more than 256 channels.
 */
export function checkStreamHeader(source: string, where: string, channels: number, sampleRateHz: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 256) {
    throw decodeError(source, `${where} says ${channels} channels; expected 1 to 256 (corrupt header)`);
  }
  if (!Number.isFinite(sampleRateHz))
    throw decodeError(source, `${where} says the sample rate is ${sampleRateHz}; expected 1000 to 1000000 Hz (corrupt header)`);
  if (sampleRateHz < 1000 || sampleRateHz > 1_000_000) {
    throw decodeError(source, `${where} says sample rate ${sampleRateHz} Hz; expected 1000 to 1000000 Hz (corrupt header)`);
  }
}
