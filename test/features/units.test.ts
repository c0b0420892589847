/** Hand-derived cases for the front end's pieces: window, FFT, mel scales and bank, dB, length policy, config. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerError } from '../../src/errors.js';
import {
  ComplexFft,
  DEFAULT_FRONT_END,
  HERTZ_TO_MEL,
  LogMelFrontEnd,
  RealFft,
  clipLogMel,
  fixLength,
  framesFor,
  frontEndKey,
  hannWindow,
  melFilterBank,
  padWindowCentered,
  powerToDb,
  resolveFrontEnd,
} from '../../src/features/index.js';
import { torchLinspaceFloat32 } from '../../src/features/mel.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

describe('window', () => {
  it('periodic Hann of 4 is [0, 0.5, 1, 0.5]; symmetric Hann of 5 is [0, 0.5, 1, 0.5, 0]', () => {
    const periodic = hannWindow(4);
    for (const [i, v] of [0, 0.5, 1, 0.5].entries()) close(periodic[i]!, v, 1e-15);
    const symmetric = hannWindow(5, { periodic: false });
    for (const [i, v] of [0, 0.5, 1, 0.5, 0].entries()) close(symmetric[i]!, v, 1e-15);
  });
  it('is centred in the frame like torch.stft: left pad floor((nFft - win) / 2)', () => {
    const padded = padWindowCentered(hannWindow(4), 9);
    assert.deepEqual(
      [...padded].map((v) => Math.round(v * 2) / 2),
      [0, 0, 0, 0.5, 1, 0.5, 0, 0, 0],
    );
  });
});

describe('fft', () => {
  const naive = (re: Float64Array, im: Float64Array) => {
    const n = re.length;
    const outRe = new Float64Array(n);
    const outIm = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      for (let j = 0; j < n; j++) {
        const angle = (-2 * Math.PI * ((j * k) % n)) / n;
        outRe[k]! += re[j]! * Math.cos(angle) - im[j]! * Math.sin(angle);
        outIm[k]! += re[j]! * Math.sin(angle) + im[j]! * Math.cos(angle);
      }
    }
    return [outRe, outIm] as const;
  };
  for (const n of [1, 2, 3, 5, 6, 7, 8, 12, 16, 45, 49, 64, 100, 143, 200, 256]) {
    it(`complex FFT of ${n} equals the DFT sum`, () => {
      const re = Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i) + 0.01 * i);
      const im = Float64Array.from({ length: n }, (_, i) => Math.cos(0.7 * i));
      const [expectedRe, expectedIm] = naive(re, im);
      new ComplexFft(n).forward(re, im);
      for (let k = 0; k < n; k++) {
        close(re[k]!, expectedRe[k]!, 1e-9 * n, `re[${k}]`);
        close(im[k]!, expectedIm[k]!, 1e-9 * n, `im[${k}]`);
      }
    });
  }
  for (const n of [2, 9, 400, 512, 1024]) {
    it(`real power spectrum of ${n}: a cosine at bin 3 puts (n/2)^2 there and ~0 elsewhere`, () => {
      const rfft = new RealFft(n);
      const frame = Float64Array.from({ length: n }, (_, i) => Math.cos((2 * Math.PI * 3 * i) / n));
      const power = new Float64Array(rfft.bins);
      rfft.powerSpectrum(frame, power);
      assert.equal(rfft.bins, Math.floor(n / 2) + 1);
      for (let k = 0; k < rfft.bins; k++) {
        const expected = k === 3 % n && n > 6 ? (n / 2) ** 2 : Number.NaN;
        if (!Number.isNaN(expected)) close(power[k]!, expected, 1e-8 * n * n, `bin ${k}`);
        else if (n > 6) close(power[k]!, 0, 1e-16 * n * n * n, `bin ${k}`);
      }
    });
  }
});

describe('mel scales', () => {
  it('HTK: 700 Hz is 2595 log10(2) mel; Slaney: 1000 Hz is 15 mel, 200/3 Hz per mel below', () => {
    close(HERTZ_TO_MEL.htk.toMel(700), 2595 * Math.log10(2), 1e-9);
    close(HERTZ_TO_MEL.slaney.toMel(1000), 15, 1e-12);
    close(HERTZ_TO_MEL.slaney.toMel(500), 7.5, 1e-12);
    close(HERTZ_TO_MEL.slaney.toMel(6400), 15 + 27, 1e-9);
  });
  for (const scale of ['htk', 'slaney'] as const) {
    it(`${scale}: hz -> mel -> hz round trip`, () => {
      for (const hz of [0, 20, 440, 999.9, 1000, 1000.1, 4000, 8000, 22050])
        close(HERTZ_TO_MEL[scale].toHz(HERTZ_TO_MEL[scale].toMel(hz)), hz, 1e-9 * (1 + hz));
    });
  }
  it('torch-float32 linspace hits both ends exactly and is monotonic', () => {
    const values = torchLinspaceFloat32(0.3, 2840.023, 130);
    assert.equal(values[0], Math.fround(0.3));
    assert.equal(values[129], Math.fround(2840.023));
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!);
  });
});

describe('mel filter bank', () => {
  const options = { nFreqs: 513, nMels: 40, sampleRateHz: 16000, fMinHz: 0, fMaxHz: 8000, melScale: 'htk', norm: null } as const;
  it('triangles peak near 1 at their centre and overlapping HTK triangles sum to 1 between the outer centres', () => {
    const bank = melFilterBank(options);
    const edges = torchLinspaceFloat32(0, HERTZ_TO_MEL.htk.toMel(8000), 42).map((m) => HERTZ_TO_MEL.htk.toHz(m));
    for (let m = 0; m < 40; m++) {
      let peak = 0;
      for (let f = 0; f < 513; f++) peak = Math.max(peak, bank.matrix[f * 40 + m]!);
      assert.ok(peak > 0.5 && peak <= 1, `band ${m} peak ${peak}`);
    }
    for (let f = 0; f < 513; f++) {
      const hz = (f * 8000) / 512;
      if (hz < edges[1]! || hz > edges[40]!) continue;
      let sum = 0;
      for (let m = 0; m < 40; m++) sum += bank.matrix[f * 40 + m]!;
      close(sum, 1, 1e-5, `bin ${f} (${hz} Hz)`);
    }
  });
  it('sparse ranges hold exactly the nonzero weights of the dense matrix', () => {
    const bank = melFilterBank({ ...options, melScale: 'slaney', norm: 'slaney' });
    for (let m = 0; m < 40; m++) {
      for (let f = 0; f < 513; f++) {
        const inside = f >= bank.firstBin[m]! && f < bank.endBin[m]!;
        const dense = bank.matrix[f * 40 + m]!;
        if (inside) assert.equal(bank.weights[bank.weightOffset[m]! + f - bank.firstBin[m]!], dense);
        else assert.equal(dense, 0);
      }
    }
  });
  it('Slaney norm gives each band unit area in Hz (weights x bin width sum to ~1)', () => {
    const bank = melFilterBank({ ...options, nFreqs: 4097, melScale: 'slaney', norm: 'slaney' });
    const binHz = 8000 / 4096;
    for (let m = 0; m < 40; m++) {
      let area = 0;
      for (let f = 0; f < 4097; f++) area += bank.matrix[f * 40 + m]! * binHz;
      close(area, 1, 0.02, `band ${m}`);
    }
  });
  it('counts empty bands (128 mels on 201 bins, as torchaudio warns)', () => {
    assert.equal(melFilterBank({ ...options, nFreqs: 201, nMels: 128 }).emptyBands, 4);
    assert.equal(melFilterBank(options).emptyBands, 0);
  });
});

describe('front end on synthetic signals', () => {
  const frontEnd = new LogMelFrontEnd();
  it('a 1 kHz sine puts its energy in the mel band whose triangle peaks nearest 1 kHz', () => {
    const samples = Float32Array.from({ length: 16000 }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / 16000));
    const { data, nMels, frames } = frontEnd.melPower(samples);
    const t = Math.floor(frames / 2);
    let best = 0;
    for (let m = 0; m < nMels; m++) if (data[m * frames + t]! > data[best * frames + t]!) best = m;
    const edges = torchLinspaceFloat32(0, HERTZ_TO_MEL.htk.toMel(8000), 130).map((mel) => HERTZ_TO_MEL.htk.toHz(mel));
    assert.ok(edges[best]! < 1000 && 1000 < edges[best + 2]!, `band ${best} spans ${edges[best]}-${edges[best + 2]} Hz`);
    // HTK triangles sum to 1 across bins, so the bands hold the one-sided spectrum's energy; Parseval:
    // sum_k |X_k|^2 (one side) = nFft * sum_n (w_n sin)^2 / 2 = 1024 * (512 * 3/8) * 1/2 / 2 = 49152.
    let total = 0;
    for (let m = 0; m < nMels; m++) total += data[m * frames + t]!;
    close(total, 49152, 49152 * 1e-4, 'band energy');
  });
  it('an impulse at a frame centre has a flat unit power spectrum: the frame mel power is the filter row sums', () => {
    const samples = new Float32Array(4096);
    samples[2048] = 1; // centre of frame 8 (hop 256); window value there is hann(512)[256] = 1
    const { data, nMels, frames } = frontEnd.melPower(samples);
    const bank = frontEnd.filterBank;
    for (let m = 0; m < nMels; m++) {
      let rowSum = 0;
      for (let f = 0; f < bank.nFreqs; f++) rowSum += bank.matrix[f * nMels + m]!;
      close(data[m * frames + 8]!, rowSum, 1e-5, `band ${m}`);
    }
  });
  it('the windowed DFT basis (graph form) gives the same mel power as the FFT path', () => {
    const small = new LogMelFrontEnd({ nFft: 64, winLength: 48, hopLength: 16, nMels: 8, fMaxHz: 8000 });
    const samples = Float32Array.from({ length: 200 }, (_, i) => Math.sin(i * 0.3) + 0.5 * Math.cos(i * 1.1));
    const fast = small.melPower(samples);
    const { real, imag, shape } = small.windowedDftBasis();
    const [nFft, nFreqs] = shape;
    const t = 5; // an inner frame: samples [t * hop - nFft / 2, ...)
    const start = t * 16 - 32;
    for (let m = 0; m < 8; m++) {
      let mel = 0;
      for (let f = 0; f < nFreqs; f++) {
        let re = 0;
        let im = 0;
        for (let n = 0; n < nFft; n++) {
          re += samples[start + n]! * real[n * nFreqs + f]!;
          im += samples[start + n]! * imag[n * nFreqs + f]!;
        }
        mel += (re * re + im * im) * small.filterBank.matrix[f * 8 + m]!;
      }
      close(fast.data[m * fast.frames + t]!, mel, 1e-4 * (1 + mel), `band ${m}`);
    }
  });
  it('clips shorter than nFft / 2 still give 1 + floor(L / hop) frames (repeated reflection)', () => {
    const spectrogram = frontEnd.logMel(Float32Array.from([0.1, -0.2, 0.3]));
    assert.equal(spectrogram.frames, 1);
    assert.ok(spectrogram.data.every(Number.isFinite));
  });
  it('zero samples is an EAUDIO error', () => {
    assert.throws(
      () => frontEnd.melPower(new Float32Array(0)),
      (e: unknown) => e instanceof SerError && e.code === 'EAUDIO',
    );
  });
});

describe('decibels', () => {
  it('10 log10(max(x, 1e-10)) with a per-clip top_db floor', () => {
    assert.deepEqual([...powerToDb(Float32Array.from([1, 100, 1e-12, 0]), null)], [0, 20, -100, -100]);
    assert.deepEqual([...powerToDb(Float32Array.from([1000, 1, 1e-6]), 40)], [30, 0, -10]);
  });
});

describe('fixed length and frames', () => {
  it('3 s at the default front end is 48000 samples and 188 frames', () => {
    assert.equal(framesFor(3), 188);
    assert.equal(framesFor(3, DEFAULT_FRONT_END), 1 + Math.floor(48000 / 256));
    assert.equal(framesFor(1, { sampleRateHz: 16000, hopLength: 160, nFft: 512 }), 101);
    // odd n_fft pads (n_fft - 1) / 2 per side: torch gives 1 + (L - 1) // hop
    assert.equal(framesFor(1, { sampleRateHz: 16000, hopLength: 160, nFft: 401 }), 100);
    assert.equal(new LogMelFrontEnd({ nFft: 401, winLength: 401, hopLength: 160 }).melPower(new Float32Array(16000)).frames, 100);
  });
  it('crops keep the start; pads append zeros at the end', () => {
    assert.deepEqual([...fixLength(Float32Array.from([1, 2, 3, 4]), 2)], [1, 2]);
    assert.deepEqual([...fixLength(Float32Array.from([1, 2]), 4)], [1, 2, 0, 0]);
    assert.throws(
      () => fixLength(new Float32Array(1), -1),
      (e: unknown) => e instanceof SerError && e.code === 'EARG',
    );
  });
  it('clipLogMel skips the offset, then crops or pads to the duration: 0.5 s at 16 kHz is 32 frames', () => {
    const frontEnd = new LogMelFrontEnd({ nMels: 16 });
    const tone = Float32Array.from({ length: 24000 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 16000));
    const clip = clipLogMel(frontEnd, tone, 0.5, 0.25);
    assert.equal(clip.length, 16 * framesFor(0.5));
    assert.deepEqual([...clip], [...frontEnd.logMel(tone.slice(4000, 12000)).data]);
    // an offset past the end leaves only padding: the log-mel of silence
    assert.deepEqual([...clipLogMel(frontEnd, tone, 0.5, 2)], [...frontEnd.logMel(new Float32Array(8000)).data]);
    // shorter than the duration: zeros appended
    assert.deepEqual(
      [...clipLogMel(frontEnd, tone.subarray(0, 100), 0.5)],
      [...frontEnd.logMel(fixLength(tone.subarray(0, 100), 8000)).data],
    );
  });
});

describe('config', () => {
  it('fills defaults, follows sampleRateHz with fMaxHz, and reports every problem at once', () => {
    assert.equal(resolveFrontEnd().nMels, 128);
    assert.equal(resolveFrontEnd({ sampleRateHz: 8000 }).fMaxHz, 4000);
    assert.throws(
      () => resolveFrontEnd({ winLength: 2048, fMaxHz: 9000, melScale: 'mel' as 'htk' }),
      (e: unknown) =>
        e instanceof SerError &&
        e.code === 'EARG' &&
        e.message.includes('winLength 2048') &&
        e.message.includes('fMaxHz 9000') &&
        e.message.includes("melScale 'mel'"),
    );
  });
  it('frontEndKey is readable, stable and changes with every field', () => {
    assert.equal(frontEndKey(DEFAULT_FRONT_END), 'logmel-v1:sr16000:nfft1024:win512:hop256:mels128:f0-8000:htk:norm-none:topdb80');
    const keys = new Set(
      [
        {},
        { nFft: 512 },
        { winLength: 400 },
        { hopLength: 160 },
        { nMels: 64 },
        { fMinHz: 20 },
        { fMaxHz: 7600 },
        { melScale: 'slaney' as const },
        { norm: 'slaney' as const },
        { topDb: null },
      ].map((o) => frontEndKey(resolveFrontEnd(o))),
    );
    assert.equal(keys.size, 10);
  });
});
