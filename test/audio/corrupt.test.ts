/**
 * Bad input: every case must end in a SerError with the right code whose message names the file, says
 * what is wrong (with the values found) and, where there is one, what to do. Corrupt files are made
 * here from bytes (or by cutting the committed fixtures), so the suite needs no tools.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeAudio, loadAudio } from '../../src/audio/index.js';
import {
  asciiBytes,
  assertSerError,
  chunk,
  concat,
  extended80,
  aiffFile,
  fixtureBytes,
  fmtPayload,
  int16Bytes,
  riffWave,
  simpleWav,
} from './audio-helpers.js';
import { hasShared, sharedDir } from '../helpers.js';

const decode =
  (bytes: Uint8Array, name = 'bad.wav') =>
  () =>
    decodeAudio(bytes, name);

describe('corrupt WAV', () => {
  it('empty file', () => assertSerError(decode(new Uint8Array(0)), 'EDECODE', ['bad.wav', 'empty (0 bytes)']));

  it('a 2 GB data chunk size in a 1 KB file: the 490 samples there, with a warning naming both sizes', async () => {
    const wav = riffWave([chunk('fmt ', fmtPayload({})), chunk('data', new Uint8Array(980), { declaredSize: 2 ** 31 })]);
    const decoded = await decodeAudio(wav, 'bad.wav');
    assert.equal(decoded.channels[0]?.length, 490);
    assert.deepEqual(decoded.warnings, [
      'decode: bad.wav: data chunk claims 2.0 GB but the file has 1.0 KB (only 980 B after the data header; truncated or not a WAV file: re-download or re-export it); decoded the 0.031 s that are there',
    ]);
  });

  it('the reference cut in half decodes to the first half exactly; cut inside the first frame it is an error', async () => {
    const whole = fixtureBytes('speech-16k-pcm16.wav');
    const reference = (await decodeAudio(whole, 'ref.wav')).channels[0] as Float32Array;
    const half = await decodeAudio(whole.subarray(0, 8001), 'half.wav');
    assert.deepEqual(half.channels[0], reference.subarray(0, (8000 - 44) / 2));
    assert.match(
      half.warnings?.[0] ?? '',
      /half\.wav: data chunk claims 16 KB but the file has 7\.8 KB .*; decoded the 0\.249 s that are there/,
    );
    await assertSerError(decode(whole.subarray(0, 45)), 'EDECODE', ['data chunk claims 16 KB but the file has 45 B', 're-download']);
  });

  it('only the RIFF header / no fmt chunk / no data chunk', async () => {
    await assertSerError(decode(fixtureBytes('speech-16k-pcm16.wav').subarray(0, 12)), 'EDECODE', ['no fmt chunk', 'no chunks']);
    await assertSerError(decode(riffWave([chunk('data', int16Bytes([1]))])), 'EDECODE', ['no fmt chunk', "'data'"]);
    await assertSerError(decode(riffWave([chunk('fmt ', fmtPayload({}))])), 'EDECODE', ['no data chunk']);
  });

  it('fmt says 0 channels, 0 Hz, 0 bits; fmt chunk too short', async () => {
    await assertSerError(decode(simpleWav({ channels: 0 }, int16Bytes([1]))), 'EDECODE', ['bad.wav', 'says 0 channels']);
    await assertSerError(decode(simpleWav({ sampleRateHz: 0 }, int16Bytes([1]))), 'EDECODE', [
      'sample rate 0 Hz',
      'expected 1000 to 1000000 Hz',
    ]);
    await assertSerError(decode(simpleWav({ bits: 0 }, int16Bytes([1]))), 'EDECODE', ['0 bits per sample']);
    await assertSerError(decode(riffWave([chunk('fmt ', new Uint8Array(10)), chunk('data', int16Bytes([1]))])), 'EDECODE', [
      'fmt chunk is 10 bytes',
    ]);
  });

  it('an unsupported codec is named, with a conversion command', async () => {
    await assertSerError(decode(simpleWav({ tag: 2, bits: 4 }, new Uint8Array(8))), 'EDECODE', [
      'WAV codec 0x0002 (Microsoft ADPCM) is not supported',
      'ffmpeg -i in.wav -c:a pcm_s16le out.wav',
    ]);
    await assertSerError(decode(simpleWav({ tag: 3, bits: 16 }, new Uint8Array(8))), 'EDECODE', ['float PCM with 16 bits']);
  });

  it('WAVE_FORMAT_EXTENSIBLE with a foreign subformat GUID', async () => {
    const ambisonic = Uint8Array.of(1, 0, 0, 0, 0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0, 0, 0);
    await assertSerError(decode(simpleWav({ tag: 0xfffe, subformat: ambisonic }, int16Bytes([1]))), 'EDECODE', [
      'subformat GUID 00000001-0721-11d3-8644-c8c1ca000000 is not supported',
    ]);
  });
});

describe('corrupt AIFF', () => {
  const rateBytes = extended80(16000);
  it('SSND shorter than COMM promises: the frames there, with a warning; no whole frame is an error', async () => {
    const file = aiffFile({ channels: 1, frames: 1000, bits: 16, rateBytes }, int16Bytes([1, 2, 3], true));
    const decoded = await decodeAudio(file, 'bad.aiff');
    assert.deepEqual(Array.from(decoded.channels[0] ?? []), [1 / 32768, 2 / 32768, 3 / 32768]);
    assert.match(
      decoded.warnings?.[0] ?? '',
      /^decode: bad\.aiff: COMM chunk promises 1000 frames \(2\.0 KB\) but the SSND chunk holds 6 B .*truncated/,
    );
    const empty = aiffFile({ channels: 1, frames: 1000, bits: 16, rateBytes }, new Uint8Array(0));
    await assertSerError(decode(empty, 'bad.aiff'), 'EDECODE', ['bad.aiff', 'COMM chunk promises 1000 frames (2.0 KB)', 'truncated']);
  });
  it('the fixture cut in half decodes to its first half exactly', async () => {
    const whole = fixtureBytes('speech-16k-pcm16.aiff');
    const reference = (await decodeAudio(whole, 'ref.aiff')).channels[0] as Float32Array;
    const half = await decodeAudio(whole.subarray(0, 8000), 'half.aiff');
    const frames = half.channels[0]?.length ?? 0;
    assert.ok(frames > 3900 && frames < 4000, `${frames} frames`);
    assert.deepEqual(half.channels[0], reference.subarray(0, frames));
    assert.match(half.warnings?.[0] ?? '', /COMM chunk promises 8000 frames/);
  });
  it('0 Hz and 0 channels in COMM; no COMM', async () => {
    const zeroRate = aiffFile({ channels: 1, frames: 1, bits: 16, rateBytes: extended80(0) }, int16Bytes([1], true));
    await assertSerError(decode(zeroRate), 'EDECODE', ['AIFF COMM chunk says sample rate 0 Hz']);
    const zeroChannels = aiffFile({ channels: 0, frames: 1, bits: 16, rateBytes }, int16Bytes([1], true));
    await assertSerError(decode(zeroChannels), 'EDECODE', ['says 0 channels']);
    await assertSerError(decode(concat(asciiBytes('FORM'), Uint8Array.of(0, 0, 0, 4), asciiBytes('AIFF'))), 'EDECODE', [
      'no complete COMM chunk',
    ]);
  });
});

describe('corrupt compressed files', () => {
  const cut = (file: string, bytes: number) => fixtureBytes(file).subarray(0, bytes);

  it('FLAC cut in half: the whole frames there (a prefix of the intact decode), with a warning', async () => {
    // ffmpeg leaves an 8 KB PADDING block: metadata ends at byte 8288, the audio frames follow
    const reference = (await decodeAudio(fixtureBytes('speech-16k.flac'), 'ref.flac')).channels[0] as Float32Array;
    const half = await decodeAudio(cut('speech-16k.flac', 12000), 'bad.flac');
    const samples = half.channels[0]?.length ?? 0;
    assert.equal(samples, 3456, 'the three whole 1152-sample frames before byte 12000 (frames start at 8288, 9042, 10287, 11848)');
    assert.deepEqual(half.channels[0], reference.subarray(0, samples));
    assert.deepEqual(half.warnings, [
      'decode: bad.flac: FLAC header promises 8000 samples per channel but only 3456 decode (truncated or corrupt stream); decoded the 0.216 s that are there',
    ]);
    // Cut inside the first audio frame: nothing to decode.
    await assertSerError(decode(cut('speech-16k.flac', 8400), 'bad.flac'), 'EDECODE', ['bad.flac', 'FLAC decoder found no audio']);
  });
  it('FLAC with only its metadata / cut inside the metadata', async () => {
    const flac = fixtureBytes('speech-16k.flac');
    await assertSerError(decode(flac.subarray(0, 20)), 'EDECODE', ['FLAC metadata block at byte 4 claims 34 bytes', 'truncated']);
  });
  it('FLAC whose audio frames are garbage', async () => {
    const flac = new Uint8Array(fixtureBytes('speech-16k.flac'));
    for (let i = 200; i < flac.length; i++) flac[i] = (i * 7919) & 255;
    await assertSerError(decode(flac, 'bad.flac'), 'EDECODE', [/FLAC (header promises|decoder found no audio)/]);
  });
  it('Ogg Vorbis cut mid-page, Ogg Opus cut at a page boundary (no end-of-stream page)', async () => {
    await assertSerError(decode(cut('speech-16k.ogg', 3000), 'bad.ogg'), 'EDECODE', ['bad.ogg', 'runs past the end', 'truncated']);
    const opus = fixtureBytes('speech-16k.opus');
    // find the start of the last page: cutting there leaves whole pages but no end-of-stream flag
    let last = 0;
    for (let i = 0; i + 4 <= opus.length; i++) if (opus[i] === 0x4f && String.fromCharCode(...opus.subarray(i, i + 4)) === 'OggS') last = i;
    await assertSerError(decode(opus.subarray(0, last), 'bad.opus'), 'EDECODE', ['no end-of-stream page']);
  });
  it('a multi-page Ogg Opus clip cut at 75%: the complete pages decode, with a warning', {
    skip: !hasShared && 'needs ../shared/data',
  }, async () => {
    const bytes = new Uint8Array(readFileSync(join(sharedDir, 'data', 'emovo', 'f1', 'dis-f1-b1.opus')));
    const whole = await decodeAudio(bytes, 'whole.opus');
    const cutShort = await decodeAudio(bytes.subarray(0, Math.floor(bytes.length * 0.75)), 'cut.opus');
    const [n, total] = [cutShort.channels[0]?.length ?? 0, whole.channels[0]?.length ?? 0];
    assert.ok(n > 0 && n < total, `${n} of ${total} samples`);
    assert.deepEqual(whole.warnings, []);
    assert.match(
      cutShort.warnings?.[0] ?? '',
      /^decode: cut\.opus: Ogg page 4 at byte 10690 runs past the end .*; decoded the \d\.\d+ s that are there$/,
    );
  });
  it('an MP3 whose first frame sync is damaged decodes from the next frames, with a warning (it was "unknown audio format")', async () => {
    const mp3 = fixtureBytes('speech-16k.mp3').slice();
    mp3[46] = 0; // the second byte of the first frame header, after the 45-byte ID3 tag
    const decoded = await decodeAudio(mp3, 'damaged.mp3');
    assert.equal(decoded.format, 'mp3');
    assert.ok((decoded.channels[0]?.length ?? 0) >= 7 * 1152, `${decoded.channels[0]?.length} samples`);
    assert.match(
      decoded.warnings?.[0] ?? '',
      /^decode: damaged\.mp3: the first 288 bytes of MPEG data are damaged \(no frame sync before byte 333\); skipped/,
    );
  });
  it('MP3 cut mid-frame, and cut at a frame boundary (fewer frames than its Info header): what is there, with a warning', async () => {
    const mp3 = fixtureBytes('speech-16k.mp3');
    const midFrame = await decodeAudio(mp3.subarray(0, 3001), 'bad.mp3');
    assert.ok((midFrame.channels[0]?.length ?? 0) > 0);
    assert.match(
      midFrame.warnings?.[0] ?? '',
      /^decode: bad\.mp3: MP3 frame \d+ at byte \d+ needs \d+ bytes .*; decoded the 0\.\d+ s that are there$/,
    );
    // 64 kbit/s MPEG-2 layer III at 16 kHz: 72 * 64000 / 16000 = 288-byte frames after the 45-byte ID3 tag
    const boundary = await decodeAudio(mp3.subarray(0, 45 + 288 * 8), 'bad.mp3');
    assert.match(boundary.warnings?.[0] ?? '', /Info header promises 16 frames but the file holds 7/);
    await assertSerError(decode(mp3.subarray(0, 45 + 100), 'bad.mp3'), 'EDECODE', ['bad.mp3', /MP3 frame 0 at byte 45 needs 288 bytes/]);
  });
});

describe('messages that used to confuse (issue 12)', () => {
  it('a WAV cut inside its fmt chunk says so (it said "fmt chunk is 16 bytes, expected at least 16")', async () => {
    const wav = simpleWav({}, int16Bytes([1, 2]));
    await assertSerError(decode(wav.subarray(0, 28)), 'EDECODE', ['the file ends 8 bytes into the 16-byte WAV fmt chunk (truncated file)']);
  });
  it('Opus headers with 0, 3 or 255 channels under mapping family 0 are refused by name (they were a TypeError)', async () => {
    const opus = fixtureBytes('speech-16k.opus');
    const head = 27 + (opus[26] as number);
    for (const channels of [0, 3, 255]) {
      const bad = opus.slice();
      bad[head + 9] = channels;
      await assertSerError(decode(bad, 'bad.opus'), 'EDECODE', [
        'bad.opus',
        channels === 0
          ? 'says 0 channels; channel mapping family 0 allows 1 to 2'
          : `says ${channels} channels; channel mapping family 0 allows 1 to 2`,
      ]);
    }
    const family = opus.slice();
    family[head + 18] = 1;
    await assertSerError(decode(family, 'bad.opus'), 'EDECODE', ['is 19 bytes; with mapping family 1 and 1 channels it needs 22']);
  });
  it('an AIFF with an infinite rate and one with 65535 channels name the values (they said "NaN Hz", "-1 channels")', async () => {
    const infinite = Uint8Array.of(0x7f, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0);
    await assertSerError(
      decode(aiffFile({ channels: 1, frames: 1, bits: 16, rateBytes: infinite }, int16Bytes([1], true)), 'inf.aiff'),
      'EDECODE',
      ['inf.aiff', 'AIFF COMM chunk says the sample rate is infinite or not a number'],
    );
    const many = aiffFile({ channels: 65535, frames: 1, bits: 16, rateBytes: extended80(16000) }, int16Bytes([1], true));
    await assertSerError(decode(many, 'many.aiff'), 'EDECODE', ['says 65535 channels; expected 1 to 256']);
  });
});

describe('unknown formats say what the bytes look like', () => {
  const cases: Array<[string, Uint8Array, string[]]> = [
    ['text', asciiBytes('hello world, not audio'), ['22 B, first bytes 68 65 6c 6c 6f', '"hello world, not"', 'not a format we recognise']],
    ['an HTML page', asciiBytes('<!DOCTYPE html><html><body>404</body></html>'), ['HTML', 'failed download']],
    ['a Git LFS pointer', asciiBytes('version https://git-lfs.github.com/spec/v1\noid sha256:abc\n'), ['git lfs pull']],
    ['zeros', new Uint8Array(4096), ['all zero bytes']],
    ['ADIF AAC', asciiBytes('ADIF and then some bytes'), ['ADIF AAC audio, not supported (ADTS and M4A are)', 'ffmpeg -i in.aac out.wav']],
    ['a RIFF AVI', concat(asciiBytes('RIFF'), new Uint8Array(4), asciiBytes('AVI LIST')), ["RIFF 'AVI ' file"]],
    [
      'Ogg Speex',
      concat(asciiBytes('OggS'), Uint8Array.of(0, 2), new Uint8Array(20), Uint8Array.of(1, 80), asciiBytes('Speex   '), new Uint8Array(72)),
      ['Ogg speex stream', 'only Vorbis and Opus'],
    ],
  ];
  for (const [what, bytes, fragments] of cases) {
    it(what, () =>
      assertSerError(decode(bytes, 'mystery.wav'), 'EDECODE', ['mystery.wav: unknown audio format', 'supported: WAV', ...fragments]),
    );
  }
});

describe('loadAudio: unusable audio and unreadable paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-audio-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('zero samples (an empty data chunk) is EAUDIO', async () => {
    const path = write('empty-data.wav', simpleWav({}, new Uint8Array(0)));
    await assertSerError(() => loadAudio(path), 'EAUDIO', [path, '0 samples']);
  });
  it('NaN and Inf samples are EAUDIO, with the first position and the count', async () => {
    const data = new Float32Array(16000);
    data[8000] = Number.NaN;
    data[9000] = Number.POSITIVE_INFINITY;
    const path = write('nan.wav', simpleWav({ tag: 3, bits: 32 }, new Uint8Array(data.buffer)));
    await assertSerError(() => loadAudio(path), 'EAUDIO', [
      path,
      'sample 8000 (at 0.500 s) is NaN',
      '2 of 16000 samples are NaN or infinite',
    ]);
    const inf = new Float32Array([0, Number.NEGATIVE_INFINITY]);
    const infPath = write('inf.wav', simpleWav({ tag: 3, bits: 32 }, new Uint8Array(inf.buffer)));
    await assertSerError(() => loadAudio(infPath), 'EAUDIO', ['sample 1 (at 0.000 s) is -Infinity']);
  });
  it('a float WAV with one huge finite sample (1e20) is EAUDIO naming the file, not NaN probabilities later', async () => {
    const data = new Float32Array(16000);
    data[4000] = 1e20;
    const path = write('huge.wav', simpleWav({ tag: 3, bits: 32 }, new Uint8Array(data.buffer)));
    await assertSerError(() => loadAudio(path), 'EAUDIO', [
      path,
      'sample 4000 (at 0.250 s) is 1.00e+20',
      '1 of 16000 samples are beyond ±65536',
    ]);
  });
  it('an empty file on disk is EDECODE naming the path', async () => {
    const path = write('zero-bytes.wav', new Uint8Array(0));
    await assertSerError(() => loadAudio(path), 'EDECODE', [path, 'empty']);
  });
  it('a missing path and a directory are EIO', async () => {
    await assertSerError(() => loadAudio(join(dir, 'nope.wav')), 'EIO', ['nope.wav', 'no such file (check the path)']);
    await assertSerError(() => loadAudio(dir), 'EIO', [dir, 'is a directory']);
  });
  it('a bad sampleRateHz option is EARG', async () => {
    const path = write('ok.wav', simpleWav({}, int16Bytes([1, 2])));
    await assertSerError(() => loadAudio(path, { sampleRateHz: 0 }), 'EARG', ['sampleRateHz must be a positive integer (0 given)']);
  });
});
