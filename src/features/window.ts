/**
 * Analysis windows. torch.hann_window(N) (periodic=True, torchaudio's default window_fn):
 *     w[n] = 0.5 - 0.5 cos(2 pi n / N),  n = 0 .. N-1
 * torch.stft zero-pads a window shorter than n_fft on both sides, left pad floor((n_fft - win) / 2).
 */

/** Periodic (periodic=true, the DFT-even window used for spectra) or symmetric Hann window of `length` samples. */
export function hannWindow(length: number, options: { periodic?: boolean } = {}): Float64Array {
  const periodic = options.periodic ?? true;
  const window = new Float64Array(length);
  if (length === 1) {
    window[0] = 1;
    return window;
  }
  const denominator = periodic ? length : length - 1;
  for (let n = 0; n < length; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / denominator);
  return window;
}

/** `window` centred in `size` zeros, as torch.stft does when win_length < n_fft. */
export function padWindowCentered(window: Float64Array, size: number): Float64Array {
  if (window.length > size) throw new RangeError(`window of ${window.length} samples is longer than the frame (${size})`);
  const padded = new Float64Array(size);
  padded.set(window, Math.floor((size - window.length) / 2));
  return padded;
}
