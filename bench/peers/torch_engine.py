"""PyTorch peer for bench/engine.ts: trains the reference CNN-TM (../shared/reference/cnn_tm.py) and exports it
with torch.onnx.export so our bench can time ONNX Runtime on PyTorch's own graph. Measurement only, never a
project dependency. Run with Debian's interpreter (python3-torch 1.13, OpenBLAS):

    /usr/bin/python3 bench/peers/torch_engine.py --reference ../shared/reference --onnx /tmp/cnn_tm_torch.onnx

Prints one JSON line: {"torch_version", "threads", "batch", "train_samples_per_s", "train_step_ms", "train_cpu_ms_per_step", ...}.
"""
import argparse
import numpy
import json
import os
import sys
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reference', required=True, help='folder holding cnn_tm.py')
    ap.add_argument('--onnx', help='write torch.onnx.export of the eval model here (input mel, output logits)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--frames', type=int, default=188)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--steps', type=int, default=8)
    ap.add_argument('--input', help='raw float32 [batch, 1, 128, frames] log-mel batch (default: randn * 10 - 40)')
    args = ap.parse_args()

    sys.path.insert(0, args.reference)
    from cnn_tm import CnnTm  # noqa: E402

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CnnTm()  # paper size: 128 mels, d_model 128, 6 layers, 4 heads, ff 512, dropout 0.4
    if args.input:
        x = torch.from_numpy(numpy.fromfile(args.input, dtype=numpy.float32).reshape(args.batch, 1, 128, args.frames).copy())
        y = torch.arange(args.batch) % 6  # the bench's labels (they do not change the cost)
    else:
        x = torch.randn(args.batch, 1, 128, args.frames) * 10 - 40
        y = torch.randint(0, 6, (args.batch,))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for _ in range(args.warmup):
        step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.steps):
        step()
    train_s, train_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    with torch.no_grad():
        for _ in range(args.warmup):
            model(x)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            model(x)
        infer_s = time.perf_counter() - t0

    result = {
        'torch_version': torch.__version__,
        'threads': torch.get_num_threads(),
        'batch': args.batch,
        'train_steps': args.steps,
        'train_step_ms': 1000 * train_s / args.steps,
        'train_samples_per_s': args.batch * args.steps / train_s,
        'train_cpu_ms_per_step': 1000 * train_cpu_s / args.steps,
        'eager_infer_samples_per_s': args.batch * args.steps / infer_s,
    }
    if args.onnx:
        # The same model PyTorch users would deploy: eval mode, fixed batch, opset 17.
        torch.onnx.export(model, x, args.onnx, input_names=['mel'], output_names=['logits'], opset_version=17)
        result['onnx'] = os.path.abspath(args.onnx)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
