/**
 * Hand-derived cases: tiny WAV/AIFF files built byte by byte in the test, with samples whose decoded
 * values follow from the scaling rules (int16 / 32768, int24 / 2^23, int32 / 2^31, (u8 - 128) / 128,
 * G.711 reference tables), and the odd chunk layouts real writers produce.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAudio } from '../../src/audio/index.js';
import { alawToInt16, ulawToInt16 } from '../../src/audio/pcm.js';
import {
  aiffFile,
  asciiBytes,
  assertSerError,
  chunk,
  concat,
  extended80,
  fmtPayload,
  int16Bytes,
  pcmGuid,
  riffWave,
  simpleWav,
} from './audio-helpers.js';

const values = (a: Float32Array[] | undefined, c = 0) => Array.from(a?.[c] ?? []);

describe('WAV sample encodings (hand-derived)', () => {
  it('16-bit: [0, 16384, -32768, 32767] -> [0, 0.5, -1, 32767/32768]', async () => {
    const d = await decodeAudio(simpleWav({ bits: 16 }, int16Bytes([0, 16384, -32768, 32767])), 't.wav');
    assert.deepEqual(values(d.channels), [0, 0.5, -1, 32767 / 32768]);
    assert.equal(d.format, 'wav/pcm16');
  });

  it('8-bit is unsigned: [0, 128, 255, 64] -> [-1, 0, 127/128, -0.5]', async () => {
    const d = await decodeAudio(simpleWav({ bits: 8 }, Uint8Array.of(0, 128, 255, 64)), 't.wav');
    assert.deepEqual(values(d.channels), [-1, 0, 127 / 128, -0.5]);
  });

  it('24-bit little-endian: 0x800000 -> -1, 0x400000 -> 0.5, 0xffffff -> -2^-23, 0x000001 -> 2^-23', async () => {
    const data = Uint8Array.of(0, 0, 0x80, 0, 0, 0x40, 0xff, 0xff, 0xff, 1, 0, 0);
    const d = await decodeAudio(simpleWav({ bits: 24 }, data), 't.wav');
    assert.deepEqual(values(d.channels), [-1, 0.5, -(2 ** -23), 2 ** -23]);
  });

  it('32-bit int: -2^31 -> -1, 2^30 -> 0.5, 1 -> 2^-31', async () => {
    const data = new Uint8Array(12);
    const v = new DataView(data.buffer);
    v.setInt32(0, -(2 ** 31), true);
    v.setInt32(4, 2 ** 30, true);
    v.setInt32(8, 1, true);
    const d = await decodeAudio(simpleWav({ bits: 32 }, data), 't.wav');
    assert.deepEqual(values(d.channels), [-1, 0.5, 2 ** -31]);
  });

  it('float32 and float64 are taken as stored (float64 rounded to float32)', async () => {
    const f32 = new Uint8Array(new Float32Array([0.25, -0.75, 1.5]).buffer);
    const d32 = await decodeAudio(simpleWav({ tag: 3, bits: 32 }, f32), 't.wav');
    assert.deepEqual(values(d32.channels), [0.25, -0.75, 1.5]);
    const f64 = new Uint8Array(new Float64Array([0.1, -1e-3]).buffer);
    const d64 = await decodeAudio(simpleWav({ tag: 3, bits: 64 }, f64), 't.wav');
    assert.deepEqual(values(d64.channels), [Math.fround(0.1), Math.fround(-1e-3)]);
    assert.equal(d64.format, 'wav/float64');
  });

  it('G.711: µ-law 0x00 -> -32124, 0x80 -> 32124, 0xff -> 0; A-law 0xd5 -> 8, 0x55 -> -8, 0xaa -> 32256 (ITU tables)', async () => {
    assert.deepEqual([0x00, 0x80, 0xff, 0x7f].map(ulawToInt16), [-32124, 32124, 0, 0]);
    assert.deepEqual([0xd5, 0x55, 0xaa, 0x2a].map(alawToInt16), [8, -8, 32256, -32256]);
    const mu = await decodeAudio(simpleWav({ tag: 7, bits: 8 }, Uint8Array.of(0x00, 0xff)), 't.wav');
    assert.deepEqual(values(mu.channels), [-32124 / 32768, 0]);
    assert.equal(mu.format, 'wav/ulaw');
    const a = await decodeAudio(simpleWav({ tag: 6, bits: 8 }, Uint8Array.of(0xaa)), 't.wav');
    assert.deepEqual(values(a.channels), [32256 / 32768]);
  });

  it('stereo is deinterleaved: frames (1000, -1000), (2000, -2000)', async () => {
    const d = await decodeAudio(simpleWav({ channels: 2 }, int16Bytes([1000, -1000, 2000, -2000])), 't.wav');
    assert.equal(d.channels.length, 2);
    assert.deepEqual(values(d.channels, 0), [1000 / 32768, 2000 / 32768]);
    assert.deepEqual(values(d.channels, 1), [-1000 / 32768, -2000 / 32768]);
  });

  it('WAVE_FORMAT_EXTENSIBLE: subformat GUID PCM 16-bit and IEEE float 32-bit', async () => {
    const pcm = await decodeAudio(simpleWav({ tag: 0xfffe, bits: 16, subformat: pcmGuid(1) }, int16Bytes([-16384])), 't.wav');
    assert.deepEqual(values(pcm.channels), [-0.5]);
    const float = new Uint8Array(new Float32Array([0.125]).buffer);
    const fl = await decodeAudio(simpleWav({ tag: 0xfffe, bits: 32, subformat: pcmGuid(3) }, float), 't.wav');
    assert.deepEqual(values(fl.channels), [0.125]);
    assert.equal(fl.format, 'wav/float32');
  });

  it('RIFX (big-endian WAV)', async () => {
    const d = await decodeAudio(simpleWav({ bigEndian: true }, int16Bytes([16384, -8192], true)), 't.wav');
    assert.deepEqual(values(d.channels), [0.5, -0.25]);
  });

  it('a trailing partial frame is dropped (5 bytes of 16-bit stereo = 1 frame)', async () => {
    const d = await decodeAudio(simpleWav({ channels: 2 }, Uint8Array.of(0, 0x40, 0, 0xc0, 7)), 't.wav');
    assert.deepEqual(values(d.channels, 0), [0.5]);
    assert.deepEqual(values(d.channels, 1), [-0.5]);
  });
});

describe('WAV chunk layouts', () => {
  const fmt = chunk('fmt ', fmtPayload({}));
  const samples = int16Bytes([8192, -8192, 4096]);
  const expected = [0.25, -0.25, 0.125];

  it('LIST and an odd-sized JUNK chunk (with its pad byte) before fmt, fact between fmt and data', async () => {
    const list = chunk('LIST', concat(asciiBytes('INFOISFT'), Uint8Array.of(5, 0, 0, 0), asciiBytes('test\0'))); // 17 bytes
    const junk = chunk('JUNK', new Uint8Array(3));
    const fact = chunk('fact', Uint8Array.of(3, 0, 0, 0));
    const d = await decodeAudio(riffWave([list, junk, fmt, fact, chunk('data', samples)]), 't.wav');
    assert.deepEqual(values(d.channels), expected);
  });

  it('an odd-sized chunk whose writer forgot the pad byte', async () => {
    const junk = chunk('junk', new Uint8Array(5), { pad: false });
    const d = await decodeAudio(riffWave([fmt, junk, chunk('data', samples)]), 't.wav');
    assert.deepEqual(values(d.channels), expected);
  });

  it('data before fmt', async () => {
    const d = await decodeAudio(riffWave([chunk('data', samples), fmt]), 't.wav');
    assert.deepEqual(values(d.channels), expected);
  });

  it('streamed: data size 0xffffffff, 0x7ffff000 (sox), 0x7fffffff and 0 with samples following -> the rest of the file', async () => {
    for (const declaredSize of [0xffffffff, 0x7ffff000, 0x7fffffff, 0]) {
      const d = await decodeAudio(riffWave([fmt, chunk('data', samples, { declaredSize })]), 't.wav');
      assert.deepEqual(values(d.channels), expected, `data size ${declaredSize}`);
    }
  });

  it('trailing zero padding and an odd data chunk at the end are fine', async () => {
    const odd = chunk('data', Uint8Array.of(0, 0x40, 0)); // 1.5 samples: the half is dropped
    const d = await decodeAudio(concat(riffWave([fmt, odd]), new Uint8Array(6)), 't.wav');
    assert.deepEqual(values(d.channels), [0.5]);
  });

  it('RF64 with a ds64 chunk giving the data size', async () => {
    const ds64 = new Uint8Array(28);
    const v = new DataView(ds64.buffer);
    v.setBigUint64(8, BigInt(samples.length), true);
    const trailer = chunk('LIST', asciiBytes('INFO'));
    const wav = riffWave([chunk('ds64', ds64), fmt, chunk('data', samples, { declaredSize: 0xffffffff }), trailer], 'RF64');
    const d = await decodeAudio(wav, 't.wav');
    assert.deepEqual(values(d.channels), expected);
  });
});

describe('AIFF (hand-derived)', () => {
  it('80-bit extended sample rates 8000, 22050, 44100, 48000 Hz', async () => {
    for (const rate of [8000, 22050, 44100, 48000]) {
      const d = await decodeAudio(
        aiffFile({ channels: 1, frames: 1, bits: 16, rateBytes: extended80(rate) }, int16Bytes([1], true)),
        't.aiff',
      );
      assert.equal(d.sampleRateHz, rate);
    }
    // the bytes every AIFF writer puts in for 16 kHz
    assert.deepEqual(Array.from(extended80(16000)), [0x40, 0x0c, 0xfa, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('big-endian 16-bit stereo; 8-bit AIFF is signed: [-128, 64] -> [-1, 0.5]', async () => {
    const rateBytes = extended80(16000);
    const d = await decodeAudio(aiffFile({ channels: 2, frames: 1, bits: 16, rateBytes }, int16Bytes([16384, -32768], true)), 't.aiff');
    assert.deepEqual([values(d.channels, 0), values(d.channels, 1)], [[0.5], [-1]]);
    const d8 = await decodeAudio(aiffFile({ channels: 1, frames: 2, bits: 8, rateBytes }, Uint8Array.of(0x80, 0x40)), 't.aiff');
    assert.deepEqual(values(d8.channels), [-1, 0.5]);
    assert.equal(d8.format, 'aiff/pcm8');
  });

  it("AIFF-C 'sowt' is little-endian, 'fl64' big-endian doubles", async () => {
    const rateBytes = extended80(16000);
    const sowt = await decodeAudio(
      aiffFile({ channels: 1, frames: 1, bits: 16, rateBytes, compression: 'sowt' }, int16Bytes([-16384])),
      't.aifc',
    );
    assert.deepEqual(values(sowt.channels), [-0.5]);
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, 0.375, false);
    const fl64 = await decodeAudio(aiffFile({ channels: 1, frames: 1, bits: 64, rateBytes, compression: 'fl64' }, f64), 't.aifc');
    assert.deepEqual(values(fl64.channels), [0.375]);
    assert.equal(fl64.format, 'aifc/float64');
  });

  it("unsupported AIFF-C compression 'ima4' is named with a conversion hint", async () => {
    const file = aiffFile({ channels: 1, frames: 1, bits: 16, rateBytes: extended80(16000), compression: 'ima4' }, new Uint8Array(34));
    await assertSerError(() => decodeAudio(file, 'x.aifc'), 'EDECODE', ['x.aifc', "'ima4' is not supported", 'ffmpeg']);
  });
});
