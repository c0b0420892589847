/**
 * Resampling audio that arrives in chunks: the same output, float for float, as resample() on the whole signal
 * (src/audio/resample.ts: torchaudio's sinc-Hann kernel), because each output sample is computed by the same
 * resampleRange sum once every input sample it reads has arrived (at end(), the rest with zeros past the end).
 * Latency: the kernel's half width, ~6 / (0.99 min(rates)) s of input (0.4 ms for 44.1 -> 16 kHz).
 */
import { type PolyphaseKernel, inputSpan, resampleKernel, resampleRange } from './resample.js';

export class StreamResampler {
  private readonly kernel: PolyphaseKernel | null;
  /** Input samples from absolute index `origin` on. */
  private buffer = new Float64Array(0);
  private origin = 0;
  private received = 0;
  private produced = 0;

  constructor(fromHz: number, toHz: number) {
    this.kernel = fromHz === toHz ? null : resampleKernel(fromHz, toHz);
  }

  /** The output samples `chunk` completes (possibly none). */
  push(chunk: Float32Array): Float32Array {
    if (!this.kernel) {
      this.received += chunk.length;
      return chunk.slice();
    }
    this.append(chunk);
    let ready = this.produced;
    while (inputSpan(this.kernel, ready).last < this.received) ready++;
    return this.emit(ready);
  }

  /** The remaining output samples: ceil(received x toHz / fromHz) in all, zeros read past the end. */
  end(): Float32Array {
    if (!this.kernel) return new Float32Array(0);
    const { orig, new: newRate } = this.kernel;
    return this.emit(Math.floor((newRate * this.received + orig - 1) / orig));
  }

  private append(chunk: Float32Array): void {
    const kernel = this.kernel as PolyphaseKernel;
    // Input before the next output's first tap is never read again.
    const keepFrom = Math.max(this.origin, Math.min(inputSpan(kernel, this.produced).first, this.received));
    const kept = this.buffer.subarray(keepFrom - this.origin, this.received - this.origin);
    const next = new Float64Array(kept.length + chunk.length);
    next.set(kept);
    next.set(chunk, kept.length);
    this.buffer = next;
    this.origin = keepFrom;
    this.received += chunk.length;
  }

  private emit(upTo: number): Float32Array {
    const out = new Float32Array(Math.max(0, upTo - this.produced));
    resampleRange(this.kernel as PolyphaseKernel, this.buffer, this.origin, this.received, this.produced, out);
    this.produced += out.length;
    return out;
  }
}
