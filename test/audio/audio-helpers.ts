/** Test utilities for test/audio: fixture access, byte-level WAV/AIFF builders, correlation, error matching. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DecodedAudio, decodeAudio } from '../../src/audio/index.js';
import { SerError, type SerErrorCode } from '../../src/errors.js';
import { fixturesDir } from '../helpers.js';

export const audioFixtures = join(fixturesDir, 'audio');

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(audioFixtures, name)));
}

export function decodeFixture(name: string): Promise<DecodedAudio> {
  return decodeAudio(fixtureBytes(name), name);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function asciiBytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** A chunk: 4-char id, u32 size (or `declaredSize`), payload, pad byte if odd (unless `pad: false`). */
export function chunk(
  id: string,
  payload: Uint8Array,
  options: { bigEndian?: boolean; declaredSize?: number; pad?: boolean } = {},
): Uint8Array {
  const header = new Uint8Array(8);
  header.set(asciiBytes(id));
  new DataView(header.buffer).setUint32(4, options.declaredSize ?? payload.length, !options.bigEndian);
  const pad = payload.length % 2 === 1 && options.pad !== false ? new Uint8Array(1) : new Uint8Array(0);
  return concat(header, payload, pad);
}

export interface FmtFields {
  tag?: number;
  channels?: number;
  sampleRateHz?: number;
  bits?: number;
  /** WAVE_FORMAT_EXTENSIBLE subformat GUID (16 bytes); set with tag 0xfffe. */
  subformat?: Uint8Array;
  bigEndian?: boolean;
}

/** The payload of a fmt chunk (16 bytes, or 40 for WAVE_FORMAT_EXTENSIBLE). */
export function fmtPayload(f: FmtFields): Uint8Array {
  const channels = f.channels ?? 1;
  const rate = f.sampleRateHz ?? 16000;
  const bits = f.bits ?? 16;
  const extensible = f.tag === 0xfffe;
  const out = new Uint8Array(extensible ? 40 : 16);
  const v = new DataView(out.buffer);
  const le = !f.bigEndian;
  const blockAlign = channels * Math.ceil(bits / 8);
  v.setUint16(0, f.tag ?? 1, le);
  v.setUint16(2, channels, le);
  v.setUint32(4, rate, le);
  v.setUint32(8, rate * blockAlign, le);
  v.setUint16(12, blockAlign, le);
  v.setUint16(14, bits, le);
  if (extensible) {
    v.setUint16(16, 22, le);
    v.setUint16(18, bits, le);
    v.setUint32(20, 4, le);
    out.set(f.subformat ?? pcmGuid(1), 24);
  }
  return out;
}

/** KSDATAFORMAT_SUBTYPE_* GUID for a format tag (1 PCM, 3 IEEE float). */
export function pcmGuid(tag: number): Uint8Array {
  return Uint8Array.from([tag, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
}

/** A RIFF WAVE file from chunks (the RIFF size is filled in). */
export function riffWave(chunks: Uint8Array[], magic = 'RIFF'): Uint8Array {
  const body = concat(asciiBytes('WAVE'), ...chunks);
  const header = new Uint8Array(8);
  header.set(asciiBytes(magic));
  new DataView(header.buffer).setUint32(4, body.length, magic !== 'RIFX');
  return concat(header, body);
}

/** A plain WAV with a fmt and a data chunk. */
export function simpleWav(f: FmtFields, data: Uint8Array): Uint8Array {
  return riffWave([chunk('fmt ', fmtPayload(f), f), chunk('data', data, f)], f.bigEndian ? 'RIFX' : 'RIFF');
}

/** Little-endian int16 sample bytes. */
export function int16Bytes(values: number[], bigEndian = false): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setInt16(i * 2, x, !bigEndian);
  return out;
}

/** 80-bit IEEE extended encoding of a positive integer rate (for AIFF COMM chunks). */
export function extended80(value: number): Uint8Array {
  const out = new Uint8Array(10);
  if (value === 0) return out;
  const exponent = Math.floor(Math.log2(value));
  const mantissa = BigInt(value) << BigInt(63 - exponent);
  const v = new DataView(out.buffer);
  v.setUint16(0, exponent + 16383, false);
  v.setBigUint64(2, mantissa, false);
  return out;
}

/** An AIFF (or AIFF-C with `compression`) file: COMM + SSND, big-endian sizes. */
export function aiffFile(
  f: { channels: number; frames: number; bits: number; rateBytes: Uint8Array; compression?: string },
  data: Uint8Array,
): Uint8Array {
  const aifc = f.compression !== undefined;
  const comm = new Uint8Array(aifc ? 24 : 18);
  const v = new DataView(comm.buffer);
  v.setInt16(0, f.channels, false);
  v.setUint32(2, f.frames, false);
  v.setInt16(6, f.bits, false);
  comm.set(f.rateBytes, 8);
  if (aifc) comm.set(asciiBytes((f.compression as string).padEnd(4).slice(0, 4)), 18); // + empty pstring (2 bytes)
  const ssnd = concat(new Uint8Array(8), data);
  const body = concat(
    asciiBytes(aifc ? 'AIFC' : 'AIFF'),
    chunk('COMM', comm, { bigEndian: true }),
    chunk('SSND', ssnd, { bigEndian: true }),
  );
  const header = new Uint8Array(8);
  header.set(asciiBytes('FORM'));
  new DataView(header.buffer).setUint32(4, body.length, false);
  return concat(header, body);
}

/** Pearson correlation of a[i + lag] with b[i] over the overlap. */
export function correlationAt(a: Float32Array, b: Float32Array, lag: number): number {
  let sa = 0;
  let sb = 0;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const j = i + lag;
    if (j < 0 || j >= a.length) continue;
    const x = a[j] as number;
    const y = b[i] as number;
    sa += x;
    sb += y;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
    n++;
  }
  return (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
}

/** The lag in [-maxLag, maxLag] with the highest correlation, and that correlation. */
export function bestAlignment(a: Float32Array, b: Float32Array, maxLag: number): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -2 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const correlation = correlationAt(a, b, lag);
    if (correlation > best.correlation) best = { lag, correlation };
  }
  return best;
}

/** Asserts `run` rejects with a SerError of `code` whose message contains every fragment. */
export async function assertSerError(run: () => Promise<unknown>, code: SerErrorCode, fragments: Array<string | RegExp>): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SerError, `expected a SerError, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const fragment of fragments) {
    if (typeof fragment === 'string') assert.ok(caught.message.includes(fragment), `message lacks "${fragment}": ${caught.message}`);
    else assert.match(caught.message, fragment);
  }
}
