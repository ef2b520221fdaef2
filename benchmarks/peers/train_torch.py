#!/usr/bin/python3
"""PyTorch peer of workload T1 `train-cnn-s` (benchmarks/src/train-bench.ts): training throughput of the `cnn-s`
architecture that the bundled model mnist-lif-bptt uses, written plainly in PyTorch.

  conv 1->16 3x3 pad 1 (bias), LIF, avgpool 2, conv 16->32 3x3 pad 1 (bias), LIF, avgpool 2, flatten,
  linear 1568->10 (bias), LI (beta 1), readout v_T / T, softmax cross-entropy; T = 8 steps, direct encoding
  (x = pixel / 255 is the input current at every step).
  LIF: v = beta * v + I; s = (v > thr); v = v - thr * s, beta 0.9, thr 1, the reset detached (no gradient through
  the s of the reset); the spike's gradient is the atan surrogate ds/du = (alpha/2) / (1 + (pi/2 * alpha * (u - thr))^2),
  alpha 2. Adam, lr 0.002. Weights uniform +-sqrt(6 / fan_in), biases 0 (as spikelens' buildArch).

One training step = forward over T steps + backward (BPTT) + optimizer step on one mini-batch. The script runs
--warmup steps, then times --images images (whole batches), and prints one JSON line on stdout:
{"images_per_s": ..., "seconds": ..., "steps": ..., ...}. Diagnostics go to stderr.
"""
import argparse
import json
import math
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--timesteps', type=int, default=8)
    p.add_argument('--images', type=int, default=3200, help='images to time (rounded up to whole batches)')
    p.add_argument('--warmup', type=int, default=5, help='untimed training steps first')
    p.add_argument('--lr', type=float, default=0.002)
    p.add_argument('--mnist', default='', help='train-images-idx3-ubyte; random data of MNIST shape if empty or missing')
    p.add_argument('--labels', default='', help='train-labels-idx1-ubyte (with --mnist)')
    p.add_argument('--seed', type=int, default=0)
    return p.parse_args()


def main():
    a = parse()
    t_import = time.perf_counter()
    import torch
    import torch.nn.functional as F
    import_seconds = time.perf_counter() - t_import
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)

    steps = max(1, math.ceil(a.images / a.batch))
    need = (steps + a.warmup) * a.batch
    n_data = min(need, 60000)
    data = 'random'
    if a.mnist and os.path.exists(a.mnist) and a.labels and os.path.exists(a.labels):
        with open(a.mnist, 'rb') as f:
            head = f.read(16)
            count = int.from_bytes(head[4:8], 'big')
            n_data = min(n_data, count)
            raw = f.read(n_data * 784)
        with open(a.labels, 'rb') as f:
            f.read(8)
            lab = f.read(n_data)
        pixels = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(n_data, 1, 28, 28)
        labels = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
        data = 'mnist'
    else:
        pixels = torch.randint(0, 256, (n_data, 1, 28, 28), dtype=torch.uint8)
        labels = torch.randint(0, 10, (n_data,))
    images = pixels.float() / 255.0

    alpha = 2.0
    thr = 1.0
    beta = 0.9
    T = a.timesteps

    class AtanSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return (u > thr).to(u.dtype)

        @staticmethod
        def backward(ctx, grad):
            (u,) = ctx.saved_tensors
            x = (math.pi / 2 * alpha) * (u - thr)
            return grad * ((alpha / 2) / (1 + x * x))

    spike = AtanSpike.apply

    def he_uniform(shape, fan_in):
        bound = math.sqrt(6 / fan_in)
        return torch.nn.Parameter((torch.rand(shape) * 2 - 1) * bound)

    w1 = he_uniform((16, 1, 3, 3), 9)
    b1 = torch.nn.Parameter(torch.zeros(16))
    w2 = he_uniform((32, 16, 3, 3), 16 * 9)
    b2 = torch.nn.Parameter(torch.zeros(32))
    w3 = he_uniform((10, 1568), 1568)
    b3 = torch.nn.Parameter(torch.zeros(10))
    params = [w1, b1, w2, b2, w3, b3]
    opt = torch.optim.Adam(params, lr=a.lr)
    spikes = {'lif1': 0.0, 'lif2': 0.0}

    def lif(v, current):
        v = beta * v + current
        s = spike(v)
        return v - thr * s.detach(), s

    def step(x, y):
        B = x.shape[0]
        v1 = torch.zeros(B, 16, 28, 28)
        v2 = torch.zeros(B, 32, 14, 14)
        vo = torch.zeros(B, 10)
        for _ in range(T):
            v1, s1 = lif(v1, F.conv2d(x, w1, b1, padding=1))
            h = F.avg_pool2d(s1, 2)
            v2, s2 = lif(v2, F.conv2d(h, w2, b2, padding=1))
            h = F.avg_pool2d(s2, 2).flatten(1)
            vo = vo + F.linear(h, w3, b3)  # li, beta 1
            spikes['lif1'] += float(s1.detach().sum())
            spikes['lif2'] += float(s2.detach().sum())
        loss = F.cross_entropy(vo / T, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def batch(i):
        lo = (i * a.batch) % (n_data - a.batch + 1)
        return images[lo:lo + a.batch], labels[lo:lo + a.batch]

    losses = []
    for i in range(a.warmup):
        losses.append(step(*batch(i)))
    spikes['lif1'] = spikes['lif2'] = 0.0
    started = time.perf_counter()
    for i in range(steps):
        losses.append(step(*batch(a.warmup + i)))
    seconds = time.perf_counter() - started
    timed = steps * a.batch
    print(json.dumps({
        'images_per_s': timed / seconds,
        'seconds': seconds,
        'steps': steps,
        'images': timed,
        'warmup_steps': a.warmup,
        'batch': a.batch,
        'threads': torch.get_num_threads(),
        'timesteps': T,
        'data': data,
        'loss_first': losses[0],
        'loss_last': losses[-1],
        'firing_rates': {
            'lif1': spikes['lif1'] / (timed * T * 16 * 28 * 28),
            'lif2': spikes['lif2'] / (timed * T * 32 * 14 * 14),
        },
        'torch': torch.__version__,
        'python': sys.version.split()[0],
        'import_seconds': import_seconds,
    }))


if __name__ == '__main__':
    main()
