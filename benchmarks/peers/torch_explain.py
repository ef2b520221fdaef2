"""PyTorch explanation peer of the spikelens benchmark suite (benchmarks/README.md, E1 and test/explain-torch.test.ts).

Written from the definitions (docs/semantics.md §3, §5, §6; docs/explain.md), not from spikelens' code:

  forward   the bundled cnn-s models (conv2d, lif/if, avgpool2d, flatten, linear, li; direct encoding; readout
            final = v_T / T of the last li layer), float32 throughout: x = (pixel*scale - mean)/std is the input
            current at every step; lif: u = beta*v + I, s = (u > thr), v = u - thr*s (if: beta = 1)
  gradients BPTT over all T steps with autograd; the spike's derivative is the atan surrogate
            sg(u) = 1 / (1 + (pi*(u - thr))^2)  (snnTorch's ATan with alpha 2), in a custom autograd.Function;
            the reset is detached (v = u - thr*s.detach())
  Grad-CAM  for a spiking layer with spikes A[t,k,i,j]: alpha[k] = (1/(H*W)) sum_{t,i,j} dy_c/dA[t,k,i,j]
            (y_c the class score, not its softmax); G[t,i,j] = max(0, sum_k alpha[k] A[t,k,i,j]);
            alpha 'per-step': alpha_t[k] = (1/(H*W)) sum_{i,j} dy_c/dA[t,k,i,j]
  saliency  max over channels of |dy_c/dpixel| (the gradient carried through the preprocessing to pixel units)
  FGSM      x' = round_half_even(clip(x + 255*eps*sign(dL/dx), 0, 255)), L the cross-entropy of softmax(scores)
            against the label
  PGD       x_0 = clip(x + 255*eps*(2u - 1)) with u the noise stream of docs/semantics.md §6's generator seeded
            with seed XOR 0x5bd1e995 and the sample's key (spikelens' random start, reproduced), or x_0 = x
            without a random start; then `steps` times x = clip(project(x + 255*step*sign(dL/dx))), step eps/4
            by default; then rounded to whole pixels, ties to even

The model is read from the .safetensors file itself (8-byte little-endian header length, JSON header,
__metadata__.spikelens = the graph), without the safetensors package.

A long-lived process driven over stdin/stdout, one JSON object per line (like torch_infer.py):
  {"cmd": "load", "model": PATH}                         -> {"torch", "threads", "T", "layers", "classes"}
  {"cmd": "forward", "pixels": [...], "batch": B}        -> scores, predictions, per spiking layer the sha256 of its
                                                            spikes [T, B, ...] as uint8 and their count
  {"cmd": "gradcam", "pixels", "batch", "layer", "target": "pred" | int | [int per sample], "alpha": "summed" |
   "per-step", "time": bool}                             -> maps [T, B, H, W], targets, scores (time: only seconds)
  {"cmd": "saliency", "pixels", "batch", "target", "time"} -> maps [B, H, W] (pixel gradient kept as "gradient")
  {"cmd": "attack", "pixels", "batch", "method": "fgsm" | "pgd", "eps", "labels", "steps", "stepSize",
   "randomStart", "seed", "keyOffset"}                   -> adversarial pixels, and the gradient of the first step
  {"cmd": "lossgrad", "pixels", "batch", "labels"}       -> dL/dpixel of the attacks' loss, the scores, spike hashes
  {"cmd": "noise", "seed", "key", "n"}                   -> the first n draws u of the random start's stream
  {"cmd": "quit"}
"time": true answers {"seconds": s} for the computation alone (preprocessing, forward, backward, the maps), never
the JSON in and out.
"""
import hashlib
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("SPIKELENS_TORCH_THREADS", "2")))

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_model(path):
    """The graph and the float32 tensors of a spikelens .safetensors file, parsed by hand."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    graph = json.loads(header["__metadata__"]["spikelens"])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(arr.astype(np.float32).copy())
    return graph, tensors


class AtanSpike(torch.autograd.Function):
    """s = H(u - thr); ds/du = 1 / (1 + (pi*(u - thr))^2) (snnTorch's ATan, alpha 2)."""

    @staticmethod
    def forward(ctx, u, thr):
        ctx.save_for_backward(u)
        ctx.thr = thr
        return (u > thr).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        (u,) = ctx.saved_tensors
        x = math.pi * (u - ctx.thr)
        return grad / (1 + x * x), None


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


# docs/semantics.md §6: splitmix32-seeded xoshiro128**, u = (next >>> 8) * 2^-24.
M32 = 0xFFFFFFFF
GOLDEN = 0x9E3779B9
NOISE_SEED = 0x5BD1E995


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Stream:
    def __init__(self, seed, key):
        x = (seed + 4 * GOLDEN * key) & M32
        s = []
        for _ in range(4):
            x = (x + GOLDEN) & M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            s.append(z ^ (z >> 16))
        self.s = s

    def next(self):
        s0, s1, s2, s3 = self.s
        r = (rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return r

    def uniform(self, n):
        return np.array([(self.next() >> 8) for _ in range(n)], dtype=np.float64) * 2.0 ** -24


class Net:
    def __init__(self, path):
        self.graph, self.tensors = read_model(path)
        g = self.graph
        self.layers = g["layers"]
        self.T = g.get("timesteps") or 8
        self.readout = g.get("readout", "final")
        inp = g["input"]
        self.shape = inp["shape"]
        pp = inp.get("preprocess", {})
        self.scale = float(pp.get("scale", 1.0))
        self.mean = pp.get("mean", [0.0])
        self.std = pp.get("std", [1.0])
        enc = inp.get("encoding", {"kind": "poisson"})
        if enc.get("kind") != "direct":
            raise ValueError("this peer runs direct-encoded models only, not " + str(enc.get("kind")))
        if self.readout != "final" or self.layers[-1]["op"] != "li":
            raise ValueError("this peer needs a last li layer read out as final")
        for l in self.layers:
            if l["op"] not in ("conv2d", "lif", "if", "avgpool2d", "flatten", "linear", "li"):
                raise ValueError("op %s is not one this peer runs" % l["op"])
            if l["op"] in ("lif", "if"):
                if l.get("resetDelay") or l.get("fireAtThreshold") or l.get("reset", "subtract") != "subtract":
                    raise ValueError("layer %s: only the immediate subtract reset firing at v > thr" % l["name"])
                for key in ("beta", "threshold", "vReset"):
                    if isinstance(l.get(key), str):
                        raise ValueError("layer %s: tensor %s not supported" % (l["name"], key))
        self.spiking = [l["name"] for l in self.layers if l["op"] in ("lif", "if")]
        self.classes = self.tensors[[l for l in self.layers if l["op"] == "linear"][-1]["weight"]].shape[0]

    def preprocess(self, pixels):
        """x = fl(fl(fl(pixel*scale) - mean[c]) / std[c]) (float32 scalars, channel-wise)."""
        C = pixels.shape[1]
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)
        mean = torch.stack([f32(self.mean[0] if len(self.mean) == 1 else self.mean[c]) for c in range(C)]).reshape(1, C, 1, 1)
        std = torch.stack([f32(self.std[0] if len(self.std) == 1 else self.std[c]) for c in range(C)]).reshape(1, C, 1, 1)
        return (pixels * f32(self.scale) - mean) / std

    def forward(self, pixels, keep=(), leaf=None):
        """Scores [B, K] and the spikes [T, B, ...] of the layers in `keep`. The spikes of layer `leaf` are made a
        leaf of the autograd graph: the reset being detached, a spike reaches y only through the layers above it, so
        autograd.grad(y, A) is dy/dA, and nothing below the layer is differentiated."""
        T = self.T
        B = pixels.shape[0]
        x = self.preprocess(pixels)
        cur = x.unsqueeze(0).expand(T, *x.shape).reshape(T * B, *x.shape[1:])  # direct: the same current every step
        kept = {}
        scores = None
        for l in self.layers:
            op = l["op"]
            if op == "conv2d":
                b = self.tensors[l["bias"]] if l.get("bias") else None
                cur = F.conv2d(cur, self.tensors[l["weight"]], b, pair(l.get("stride", 1)), pair(l.get("padding", 0)),
                               pair(l.get("dilation", 1)), l.get("groups", 1))
            elif op == "linear":
                b = self.tensors[l["bias"]] if l.get("bias") else None
                cur = F.linear(cur, self.tensors[l["weight"]], b)
            elif op == "avgpool2d":
                k = pair(l["kernel"])
                cur = F.avg_pool2d(cur, k, pair(l.get("stride", k)), pair(l.get("padding", 0)), count_include_pad=True)
            elif op == "flatten":
                cur = cur.flatten(1)
            elif op in ("lif", "if"):
                beta = 1.0 if op == "if" else float(l["beta"])
                thr = float(l.get("threshold", 1.0))
                I = cur.reshape(T, B, *cur.shape[1:])
                v = torch.full_like(I[0], float(l.get("vReset", 0.0)))
                spikes = []
                for t in range(T):
                    u = beta * v + I[t]
                    s = AtanSpike.apply(u, thr)
                    v = u - thr * s.detach()  # the reset detached
                    spikes.append(s)
                A = torch.stack(spikes)
                if l["name"] == leaf:
                    A = A.detach().requires_grad_(True)
                if l["name"] in keep:
                    kept[l["name"]] = A
                cur = A.reshape(T * B, *A.shape[2:])
            elif op == "li":
                beta = float(l.get("beta", 1.0))
                I = cur.reshape(T, B, *cur.shape[1:])
                v = torch.zeros_like(I[0])
                for t in range(T):
                    v = beta * v + I[t]
                scores = v / T  # readout final: v_T / T
                cur = v
        return scores, kept

    def targets(self, scores, target):
        pred = scores.argmax(1).tolist()  # ties: the lowest index, as torch.argmax on CPU
        B = scores.shape[0]
        if target == "pred" or target is None:
            return pred, pred
        if isinstance(target, list):
            return target, pred
        return [int(target)] * B, pred

    def class_score_sum(self, scores, targets):
        return scores[torch.arange(scores.shape[0]), torch.tensor(targets)].sum()

    def gradcam(self, pixels, layer, target, alpha):
        with torch.enable_grad():
            scores, kept = self.forward(pixels, keep=(layer,), leaf=layer)
            tg, pred = self.targets(scores.detach(), target)
            A = kept[layer]
            (dA,) = torch.autograd.grad(self.class_score_sum(scores, tg), [A])
        with torch.no_grad():
            T, B, C, H, W = A.shape
            if alpha == "per-step":
                a = dA.sum(dim=(3, 4)) / (H * W)  # [T, B, C]
            else:
                a = (dA.sum(dim=(0, 3, 4)) / (H * W)).unsqueeze(0)  # [1, B, C]
            maps = torch.relu((a.unsqueeze(-1).unsqueeze(-1) * A).sum(2))  # [T, B, H, W]
        return maps, tg, pred, scores.detach()

    def pixel_gradient(self, pixels, loss_of):
        px = pixels.clone().requires_grad_(True)
        with torch.enable_grad():
            scores, _ = self.forward(px)
            loss, extra = loss_of(scores)
            (g,) = torch.autograd.grad(loss, [px])
        return g, scores.detach(), extra

    def saliency(self, pixels, target):
        def loss_of(scores):
            tg, pred = self.targets(scores.detach(), target)
            return self.class_score_sum(scores, tg), (tg, pred)
        g, scores, (tg, pred) = self.pixel_gradient(pixels, loss_of)
        return g.abs().amax(1), g, tg, pred, scores

    def loss_gradient(self, x, labels):
        y = torch.tensor(labels)
        # The sum of each sample's cross-entropy, so every sample's gradient is its own (not averaged over the batch).
        # In float64: on a confident prediction p_label is within 1e-6 of 1, and softmax - onehot taken in float32
        # loses most of the digits of p_label - 1 (the gradient's largest term), which flips the sign of small pixel
        # gradients; the float64 loss gradient is rounded to float32 once, where it enters the network.
        g, scores, _ = self.pixel_gradient(x, lambda s: (F.cross_entropy(s.double(), y, reduction="sum"), None))
        return g, scores

    def attack(self, pixels, method, eps, labels, steps=10, step_size=None, random_start=True, seed=0, key_offset=0):
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)
        radius = f32(255 * eps)
        B = pixels.shape[0]
        first = None
        if eps == 0:
            x = pixels.clone()
        elif method == "fgsm":
            g, _ = self.loss_gradient(pixels, labels)
            first = g
            x = torch.clamp(pixels + radius * torch.sign(g), 0, 255)
        else:
            step = f32(255 * (step_size if step_size is not None else eps / 4))
            x = pixels.clone()
            if random_start:
                n = pixels[0].numel()
                for b in range(B):
                    u = torch.from_numpy(Stream((seed ^ NOISE_SEED) & M32, key_offset + b).uniform(n).astype(np.float32))
                    noise = radius * (2 * u - 1)  # 2u - 1 is exact in float32
                    x[b] = torch.clamp(pixels[b] + noise.reshape(pixels[b].shape), 0, 255)
            lo = pixels - radius
            hi = pixels + radius
            for _ in range(steps):
                g, _ = self.loss_gradient(x, labels)
                if first is None:
                    first = g
                moved = x + step * torch.sign(g)
                x = torch.clamp(torch.minimum(torch.maximum(moved, lo), hi), 0, 255)
        return torch.round(x), first  # torch.round: half to even


def spike_hash(A):
    return hashlib.sha256(A.detach().to(torch.uint8).contiguous().numpy().tobytes()).hexdigest()


def main():
    net = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "load":
                net = Net(msg["model"])
                reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "T": net.T, "layers": net.spiking, "classes": net.classes}
            elif cmd == "quit":
                break
            elif cmd == "noise":  # the random start's draws, to check the generator against spikelens
                reply = {"u": Stream((int(msg.get("seed", 0)) ^ NOISE_SEED) & M32, int(msg.get("key", 0))).uniform(int(msg["n"])).tolist()}
            else:
                B = int(msg.get("batch", 1))
                pixels = torch.tensor(msg["pixels"], dtype=torch.float32).reshape(B, *net.shape)
                timed = bool(msg.get("time"))
                start = time.perf_counter()
                if cmd == "forward":
                    with torch.no_grad():
                        scores, kept = net.forward(pixels, keep=tuple(net.spiking))
                    reply = {
                        "scores": scores.flatten().tolist(),
                        "predictions": scores.argmax(1).tolist(),
                        "spikes": {n: spike_hash(a) for n, a in kept.items()},
                        "counts": {n: int(a.sum()) for n, a in kept.items()},
                    }
                elif cmd == "gradcam":
                    maps, tg, pred, scores = net.gradcam(pixels, msg["layer"], msg.get("target", "pred"), msg.get("alpha", "summed"))
                    seconds = time.perf_counter() - start
                    reply = {"seconds": seconds} if timed else {
                        "shape": list(maps.shape), "maps": maps.flatten().tolist(), "targets": tg, "predictions": pred,
                        "scores": scores.flatten().tolist(),
                    }
                elif cmd == "saliency":
                    maps, g, tg, pred, scores = net.saliency(pixels, msg.get("target", "pred"))
                    seconds = time.perf_counter() - start
                    reply = {"seconds": seconds} if timed else {
                        "shape": list(maps.shape), "maps": maps.flatten().tolist(), "gradient": g.flatten().tolist(),
                        "targets": tg, "predictions": pred, "scores": scores.flatten().tolist(),
                    }
                elif cmd == "lossgrad":  # dL/dpixel of the attacks' loss at these pixels, and the spikes there
                    g, scores = net.loss_gradient(pixels, msg["labels"])
                    with torch.no_grad():
                        _, kept = net.forward(pixels, keep=tuple(net.spiking))
                    reply = {"gradient": g.flatten().tolist(), "scores": scores.flatten().tolist(), "spikes": {n: spike_hash(a) for n, a in kept.items()}}
                elif cmd == "attack":
                    x, first = net.attack(pixels, msg["method"], float(msg["eps"]), msg["labels"], int(msg.get("steps", 10)),
                                          msg.get("stepSize"), bool(msg.get("randomStart", True)), int(msg.get("seed", 0)),
                                          int(msg.get("keyOffset", 0)))
                    seconds = time.perf_counter() - start
                    reply = {"seconds": seconds} if timed else {
                        "adversarial": x.flatten().tolist(),
                        "gradient": first.flatten().tolist() if first is not None else None,
                    }
                else:
                    raise ValueError("command " + cmd)
        except Exception as e:  # one line back, the caller reports it
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
