"""Peer measurement for bench/features.ts (a measuring tool only, never a project dependency).

torchaudio 0.13 MelSpectrogram + AmplitudeToDB on 3 s clips at 16 kHz (the project's default front end), and the
same after torchaudio.functional.resample from 44.1 kHz. Prints one JSON object with clips per second per mode.
Run: /usr/bin/python3 bench/peers/features_torchaudio.py [--seconds S]
"""
import argparse, json, multiprocessing as mp, time
import torch, torchaudio

SR = 16000
CONFIG = dict(sample_rate=SR, n_fft=1024, win_length=512, hop_length=256, n_mels=128, f_min=0.0, f_max=8000.0,
              mel_scale='htk', norm=None)


def clips(rate, count=8):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(3 * rate) / rate
    return [0.1 * torch.randn(3 * rate, generator=g) + 0.3 * torch.sin(2 * torch.pi * (200 + 50 * i) * t) for i in range(count)]


def rate_of(work, seconds):
    """Calls work() for about `seconds` after a warm-up; returns (calls per wall second, CPU seconds per call)."""
    for _ in range(20):
        work()
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            work()
        done += 10
    return done / (time.perf_counter() - start), (time.process_time() - cpu) / done


def make_work(mode, batch=32):
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
        x = torch.stack(clips(SR, batch))

        def work():
            # AmplitudeToDB on [B, 1, n_mels, T] clamps top_db per clip, like the per-clip calls
            return db(mel(x)[:, None])
        return work, batch
    raise ValueError(mode)


def measure(mode, threads, seconds, cpu=False):
    """Clips per second (and, with cpu=True, also CPU milliseconds per clip)."""
    torch.set_num_threads(threads)
    work, per_call = make_work(mode)
    with torch.inference_mode():
        rate, cpu_s = rate_of(work, seconds)
    return (rate * per_call, 1000 * cpu_s / per_call) if cpu else rate * per_call


def _one_process(args):
    mode, seconds = args
    return measure(mode, 1, seconds)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=float, default=3.0)
    args = parser.parse_args()
    out = {'torch': torch.__version__, 'torchaudio': torchaudio.__version__, 'modes': {}}
    for mode in ('logmel', 'resample+logmel', 'logmel batched'):
        rate, cpu_ms = measure(mode, 1, args.seconds, cpu=True)
        out['modes'][mode] = {
            '1 thread': rate,
            'cpu ms per clip': cpu_ms,
            '2 threads': measure(mode, 2, args.seconds),
        }
        with mp.get_context('fork').Pool(2) as pool:  # two 1-thread processes: the analogue of our 2 workers
            out['modes'][mode]['2 processes'] = sum(pool.map(_one_process, [(mode, args.seconds)] * 2))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
