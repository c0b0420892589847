"""Peer measurement for bench/features.ts (a measuring tool only, never a project dependency).

torchaudio 0.13 MelSpectrogram + AmplitudeToDB on 3 s clips at 16 kHz (the project's default front end), per clip
or batched, optionally after torchaudio.functional.resample from 44.1 kHz. One measurement per invocation, so
bench/features.ts can interleave it with ours; prints one JSON object: clips per wall second, CPU ms per clip.
Run: /usr/bin/python3 bench/peers/features_torchaudio.py --mode logmel [--threads 1] [--processes 1] [--seconds S]

Why the figure used to move 10x (measured 2026-12-04, this machine, load ~13): glibc malloc hands the ~1 MB
intermediates of a call (padded signal, complex STFT, power) back to the kernel when they are freed (mmap
threshold / heap trimming), so every call faults them in again: 345 minor page faults per 3 s clip, 3.6 ms user +
2.6 ms system CPU per clip instead of 0.75 + 0.05 ms. Whether a call lands there depends on the allocation history
of the process (glibc adapts its mmap threshold to the largest chunk freed so far), so the order of the modes, not
the work, decided the figure (resample + log-mel measured "cheaper" than log-mel alone), and the page faults cost
more the busier the machine. The script therefore re-executes itself with the thresholds fixed (MALLOC_*_ below:
the fastest, steadiest torch), and with OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads sleep instead of spinning
on a core the work needs (our ORT sessions do the same: src/runtime `spinning: false`).
"""
import argparse, json, multiprocessing as mp, os, sys, time

PEER_ENV = {'MALLOC_MMAP_THRESHOLD_': '1000000000', 'MALLOC_TRIM_THRESHOLD_': '1000000000', 'OMP_WAIT_POLICY': 'PASSIVE'}
if any(os.environ.get(k) != v for k, v in PEER_ENV.items()) and not os.environ.get('PEER_RAW_MALLOC'):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **PEER_ENV})

import torch, torchaudio  # noqa: E402 (after the re-exec, so glibc reads the settings at start)

SR = 16000
CONFIG = dict(sample_rate=SR, n_fft=1024, win_length=512, hop_length=256, n_mels=128, f_min=0.0, f_max=8000.0,
              mel_scale='htk', norm=None)
BATCH = 32


def clips(rate, count=8):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(3 * rate) / rate
    return [0.1 * torch.randn(3 * rate, generator=g) + 0.3 * torch.sin(2 * torch.pi * (200 + 50 * i) * t) for i in range(count)]


def make_work(mode):
    """Returns (work, clips per call)."""
    mel = torchaudio.transforms.MelSpectrogram(**CONFIG)
    db = torchaudio.transforms.AmplitudeToDB('power', top_db=80.0)
    if mode == 'logmel':
        data, i = clips(SR), [0]

        def work():
            i[0] += 1
            return db(mel(data[i[0] % len(data)])[None])
        return work, 1
    if mode == 'resample+logmel':
        data, i = clips(44100), [0]

        def work():
            i[0] += 1
            return db(mel(torchaudio.functional.resample(data[i[0] % len(data)], 44100, SR))[None])
        return work, 1
    if mode == 'logmel batched':
        x = torch.stack(clips(SR, BATCH))

        def work():
            # AmplitudeToDB on [B, 1, n_mels, T] clamps top_db per clip, like the per-clip calls
            return db(mel(x)[:, None])
        return work, BATCH
    raise ValueError(f'unknown mode {mode!r}: logmel, resample+logmel, logmel batched')


def measure(mode, threads, seconds):
    """(clips per wall second, CPU ms per clip) after a 1 s warm-up (first-call costs, plan caches, allocator)."""
    torch.set_num_threads(threads)
    work, per_call = make_work(mode)
    with torch.inference_mode():
        start = time.perf_counter()
        while time.perf_counter() - start < 1.0:
            work()
        done, start, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - start < seconds:
            work()
            done += 1
        wall, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    return done * per_call / wall, 1000 * cpu_s / (done * per_call)


def _one_process(args):
    return measure(*args)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--mode', default='logmel')
    parser.add_argument('--threads', type=int, default=1, help='torch intra-op threads per process')
    parser.add_argument('--processes', type=int, default=1, help='independent processes, rates summed')
    parser.add_argument('--seconds', type=float, default=3.0)
    args = parser.parse_args()
    if args.processes == 1:
        rate, cpu_ms = measure(args.mode, args.threads, args.seconds)
    else:
        with mp.get_context('spawn').Pool(args.processes) as pool:
            results = pool.map(_one_process, [(args.mode, args.threads, args.seconds)] * args.processes)
        rate = sum(r for r, _ in results)
        cpu_ms = sum(c for _, c in results) / len(results)
    print(json.dumps({'torch': torch.__version__, 'torchaudio': torchaudio.__version__, 'clipsPerS': rate, 'cpuMsPerClip': cpu_ms}))


if __name__ == '__main__':
    main()
