/**
 * `ser features` end to end: spawns the real CLI (the compiled build/src when the tests run from build/, else tsx on src/)
 * on a WAV written here (22.05 kHz stereo speech from the golden set, or a synthetic chirp without ../shared).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAudio } from '../../src/audio/index.js';
import { LogMelFrontEnd, frontEndKey } from '../../src/features/index.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { hasShared, maxAbsDiff, repoRoot, sharedDir } from '../helpers.js';

const fromSource = import.meta.url.endsWith('.ts');
const cli = fromSource
  ? ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')]
  : [fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))];

function ser(...args: string[]) {
  const result = spawnSync(process.execPath, [...cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** 16-bit PCM WAV bytes of interleaved channels. */
function wavBytes(channels: Float32Array[], sampleRateHz: number): Uint8Array {
  const frames = channels[0]!.length;
  const count = channels.length;
  const out = new Uint8Array(44 + frames * count * 2);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + frames * count * 2, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, count, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * count * 2, true);
  view.setUint16(32, count * 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, frames * count * 2, true);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < count; c++)
      view.setInt16(44 + (i * count + c) * 2, Math.round(Math.max(-1, Math.min(1, channels[c]![i]!)) * 32767), true);
  }
  return out;
}

describe('ser features', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-features-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rate = 22050;
  let speech: Float32Array;
  if (hasShared) {
    speech = readSafetensors(join(sharedDir, 'golden', 'resample.safetensors')).tensors.get(`in/${rate}`)!.data as Float32Array;
  } else {
    speech = Float32Array.from({ length: 2 * rate }, (_, i) => 0.5 * Math.sin(2 * Math.PI * (200 * (i / rate) + 800 * (i / rate) ** 2)));
  }
  const wav = join(dir, 'speech.wav');
  writeFileSync(wav, wavBytes([speech, speech.map((x) => 0.5 * x)], rate));

  it('writes mel_db [128, frames] equal to the library front end, metadata and a PNG', async () => {
    const out = join(dir, 'speech.safetensors');
    const png = join(dir, 'speech.png');
    const run = ser('features', wav, '--out', out, '--png', png);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /22050 Hz \(resampled to 16000 Hz\), 2 channels/);
    assert.match(run.stdout, /mel_db \[128, \d+\], -?\d+\.\d \.\. -?\d+\.\d dB/);

    const file = readSafetensors(out);
    const melDb = file.tensors.get('mel_db')!;
    const audio = await loadAudio(wav);
    const expected = new LogMelFrontEnd().logMel(audio.samples);
    assert.deepEqual(melDb.shape, [128, expected.frames]);
    assert.equal(expected.frames, 1 + Math.floor(Math.ceil((speech.length * 16000) / rate) / 256));
    assert.ok(maxAbsDiff(melDb.data as Float32Array, expected.data) === 0);
    const frontEnd = JSON.parse(file.metadata.front_end!) as Record<string, unknown>;
    assert.equal(frontEnd.key, frontEndKey(new LogMelFrontEnd().config));
    assert.equal(frontEnd.nMels, 128);
    assert.equal(file.metadata.source, wav);
    assert.equal(file.metadata.source_sample_rate_hz, '22050');
    assert.equal(file.metadata.source_channels, '2');

    const image = readFileSync(png);
    assert.deepEqual([...image.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    assert.equal(image.readUInt32BE(16), expected.frames * 2); // IHDR width
    assert.equal(image.readUInt32BE(20), 128 * 2); // IHDR height
  });

  it('--png alone writes the picture (the same bytes as with --out); neither --out nor --png is refused', () => {
    const alone = join(dir, 'alone.png');
    const run = ser('features', wav, '--png', alone);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^wrote ${alone.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.ok(readFileSync(alone).equals(readFileSync(join(dir, 'speech.png'))));
    const neither = ser('features', wav);
    assert.equal(neither.code, 1);
    assert.match(neither.stderr, /^ser: features: nothing to write: give --out FILE\.safetensors, --png FILE\.png or both \[EARG\]$/m);
  });

  it('--duration 3 with front-end flags gives [64, 188] and records the flags in the metadata', () => {
    const out = join(dir, 'fixed.safetensors');
    const run = ser(
      'features',
      wav,
      '--out',
      out,
      '--duration',
      '3',
      '--n-mels',
      '64',
      '--mel-scale',
      'slaney',
      '--norm',
      'slaney',
      '--top-db',
      'none',
    );
    assert.equal(run.code, 0, run.stderr);
    const file = readSafetensors(out);
    assert.deepEqual(file.tensors.get('mel_db')!.shape, [64, 188]);
    const frontEnd = JSON.parse(file.metadata.front_end!) as Record<string, unknown>;
    assert.deepEqual([frontEnd.melScale, frontEnd.norm, frontEnd.topDb, frontEnd.nMels], ['slaney', 'slaney', null, 64]);
    assert.equal(file.metadata.duration_s, '3');
  });

  it('reports every invalid flag value in one EARG line, exit code 1', () => {
    const run = ser(
      'features',
      wav,
      '--out',
      join(dir, 'x.safetensors'),
      '--n-fft',
      'abc',
      '--win',
      '2000',
      '--mel-scale',
      'mel',
      '--top-db',
      '-3',
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^ser: features: /);
    for (const part of ["--n-fft 'abc' is not a number", "--mel-scale 'mel'", '--win 2000', '--top-db -3'])
      assert.ok(run.stderr.includes(part), run.stderr);
  });

  it('a truncated WAV: features of what is there, and the warning on stderr', () => {
    const bytes = wavBytes([speech], rate);
    const cut = join(dir, 'cut.wav');
    writeFileSync(cut, bytes.subarray(0, 44 + rate)); // 0.5 s of the 16-bit samples
    const run = ser('features', cut, '--out', join(dir, 'cut.safetensors'));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^ser: warning: decode: .*cut\.wav: data chunk claims .* decoded the 0\.500 s that are there$/m);
    assert.match(run.stdout, /cut\.wav: wav\/pcm16, 0\.500 s/);
  });

  it('a missing input file is one clear line naming it', () => {
    const missing = join(dir, 'missing.wav');
    const run = ser('features', missing, '--out', join(dir, 'y.safetensors'));
    assert.equal(run.code, 1);
    assert.ok(run.stderr.includes(missing) && run.stderr.split('\n').filter(Boolean).length === 1, run.stderr);
  });
});
