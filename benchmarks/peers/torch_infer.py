"""PyTorch inference peer of the spikelens benchmark suite (benchmarks/README.md).

Runs the same network with the same semantics (docs/semantics.md: float32, v = beta*v + I, s = v > threshold, subtract or
zero reset, immediate) on the same input spike train that spikelens' encoder produced, written plainly in PyTorch
on the CPU with torch.set_num_threads(2) and torch.no_grad(). Two ways, and the suite quotes the faster:

  layerwise  all T steps through each stateless layer at once (T*B as the batch), the neuron loop over T
  stepwise   one step at a time through every layer

and, for the SAM workload, the SAM paper's own way of computing the maps: at every step a loop over the stored
spike history (O(T^2)).

A long-lived process driven over stdin/stdout, one JSON object per line, so that spikelens and this peer can be
timed alternately, run by run. Commands:
  {"cmd": "load", "dir": D}       read D/spec.json (the spikelens graph), D/<tensor>.npy, D/input.npy;
                                  answers the sha256 of every spiking layer's spikes, the scores, and timings of
                                  one warm-up run of each mode
  {"cmd": "time", "mode": M}      one run of mode M (layerwise, stepwise, sam), answers {"seconds": s}
  {"cmd": "sam", "out": D}        the O(T^2) maps of the SAM layers, saved as D/<layer>.sam.npy, for the check
  {"cmd": "quit"}
Only the network (and the maps) are timed: never loading, never building.
"""
import hashlib
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torch.utils.mkldnn as mkldnn_utils

torch.set_num_threads(int(os.environ.get("SPIKELENS_TORCH_THREADS", "2")))
torch.set_grad_enabled(False)


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


class Net:
    def __init__(self, d):
        with open(os.path.join(d, "spec.json")) as f:
            spec = json.load(f)
        self.graph = spec["graph"]
        self.sam_layers = spec.get("sam", [])
        self.gamma = spec.get("gamma", 0.5)
        self.T = spec["timesteps"]
        self.tensors = {}
        for name in spec["tensors"]:
            self.tensors[name] = torch.from_numpy(np.load(os.path.join(d, name + ".npy")).astype(np.float32))
        inp = np.load(os.path.join(d, "input.npy"))
        self.input = torch.from_numpy(inp.astype(np.float32))  # [T, B, ...]
        self.B = self.input.shape[1]
        self.layers = self.graph["layers"]
        self.readout = self.graph.get("readout", "final")
        # Debian's torch is built with the generic (reference) BLAS: F.linear runs at about 2 GFLOP/s here, while
        # oneDNN's linear reaches 130. The peer uses the faster one (and says so).
        self.mkldnn = torch.backends.mkldnn.is_available() and os.environ.get("SPIKELENS_TORCH_MKLDNN", "1") == "1"
        self.linears = {}
        for layer in self.layers:
            if layer["op"] == "linear" and self.mkldnn:
                w = self.tensors[layer["weight"]]
                lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=bool(layer.get("bias")))
                lin.weight.copy_(w)
                if layer.get("bias"):
                    lin.bias.copy_(self.tensors[layer["bias"]])
                self.linears[layer["name"]] = mkldnn_utils.to_mkldnn(lin)

    def value(self, v):
        return self.tensors[v] if isinstance(v, str) else float(v)

    def stateless(self, layer, x, t=None):
        op = layer["op"]
        if op == "conv2d":
            b = self.tensors[layer["bias"]] if layer.get("bias") else None
            return F.conv2d(x, self.tensors[layer["weight"]], b, pair(layer.get("stride", 1)), pair(layer.get("padding", 0)),
                            pair(layer.get("dilation", 1)), layer.get("groups", 1))
        if op == "linear":
            if layer["name"] in self.linears:
                return self.linears[layer["name"]](x.to_mkldnn()).to_dense()
            b = self.tensors[layer["bias"]] if layer.get("bias") else None
            return F.linear(x, self.tensors[layer["weight"]], b)
        if op == "avgpool2d":
            k = pair(layer["kernel"])
            return F.avg_pool2d(x, k, pair(layer.get("stride", k)), pair(layer.get("padding", 0)), count_include_pad=True)
        if op == "sumpool2d":
            k = pair(layer["kernel"])
            return F.avg_pool2d(x, k, pair(layer.get("stride", k)), pair(layer.get("padding", 0)), divisor_override=1)
        if op == "maxpool2d":
            k = pair(layer["kernel"])
            return F.max_pool2d(x, k, pair(layer.get("stride", k)), pair(layer.get("padding", 0)))
        if op == "flatten":
            return x.flatten(1)
        if op == "relu":
            return torch.relu(x)
        if op == "affine":
            return self.affine(layer, x, t)
        raise ValueError("op " + op)

    def affine(self, layer, x, t):
        """x*scale + shift per channel; a [T, C] tensor is row t at step t (t None: x is [T*B, ...], all steps)."""
        out = x
        for key in ("scale", "shift"):
            v = self.value(layer[key])
            if isinstance(v, float):
                p = v
            elif v.dim() == 2:
                rows = v if t is None else v[t:t + 1]
                C = v.shape[1]
                shape = [rows.shape[0], 1, C] + [1] * (x.dim() - 2)
                p = rows.reshape(shape)
                if t is None:
                    out = out.reshape([self.T, self.B] + list(x.shape[1:]))
                    out = out * p if key == "scale" else out + p
                    out = out.reshape(x.shape)
                else:
                    p = p.reshape([1, C] + [1] * (x.dim() - 2))
                    out = out * p if key == "scale" else out + p
                continue
            else:
                p = v.reshape([1, -1] + [1] * (x.dim() - 2))
            out = out * p if key == "scale" else out + p
        return out

    def neuron_params(self, layer, shape):
        beta = self.value(layer.get("beta", 1.0))
        thr = self.value(layer.get("threshold", 1.0))
        vr = self.value(layer.get("vReset", 0.0))
        def fit(p):
            if isinstance(p, float):
                return p
            return p.reshape([1, -1] + [1] * (len(shape) - 2)) if p.numel() == shape[1] else p.reshape([1] + list(shape[1:]))
        return fit(beta), fit(thr), fit(vr)

    def lif_step(self, layer, I, v):
        beta, thr, vr = self.neuron_params(layer, I.shape)
        v = beta * v + I
        s = (v > thr).to(I.dtype)
        if layer.get("reset", "subtract") == "subtract":
            v = v - thr * s
        elif layer["reset"] == "zero":
            v = torch.where(s > 0, torch.full_like(v, 0.0) + vr, v)
        return s, v

    def run_layerwise(self, record=()):
        T, B = self.T, self.B
        x = self.input.reshape([T * B] + list(self.input.shape[2:]))
        rec = {}
        for layer in self.layers:
            op = layer["op"]
            if op in ("lif", "if"):
                I = x.reshape([T, B] + list(x.shape[1:]))
                v = torch.zeros_like(I[0])
                out = torch.empty_like(I)
                if op == "if":
                    layer = dict(layer, beta=1.0)
                for t in range(T):
                    s, v = self.lif_step(layer, I[t], v)
                    out[t] = s
                x = out.reshape(x.shape)
                if layer["name"] in record:
                    rec[layer["name"]] = out
            elif op == "li":
                I = x.reshape([T, B] + list(x.shape[1:]))
                beta = self.value(layer.get("beta", 1.0))
                v = torch.zeros_like(I[0])
                acc = torch.zeros_like(I[0])
                for t in range(T):
                    v = beta * v + I[t]
                    acc = acc + v
                x = v if self.readout == "final" else acc
                rec["__scores"] = v / T if self.readout == "final" else acc / T
            else:
                x = self.stateless(layer, x)
        if "__scores" not in rec:  # count readout of a last spiking layer
            rec["__scores"] = x.reshape([T, B, -1]).sum(0)
        return rec

    def run_stepwise(self, record=(), steps=None):
        T = self.T if steps is None else steps
        state = {}
        rec = {name: [] for name in record}
        scores = None
        acc = None
        for t in range(T):
            x = self.input[t]
            for layer in self.layers:
                op = layer["op"]
                if op in ("lif", "if"):
                    lay = dict(layer, beta=1.0) if op == "if" else layer
                    v = state.get(layer["name"])
                    if v is None:
                        v = torch.zeros_like(x)
                    x, v = self.lif_step(lay, x, v)
                    state[layer["name"]] = v
                    if layer["name"] in rec:
                        rec[layer["name"]].append(x)
                    if layer is self.layers[-1]:
                        acc = x if acc is None else acc + x
                elif op == "li":
                    beta = self.value(layer.get("beta", 1.0))
                    v = state.get(layer["name"])
                    v = x if v is None else beta * v + x
                    state[layer["name"]] = v
                    acc = v if acc is None else acc + v
                    x = v
                else:
                    x = self.stateless(layer, x, t)
            scores = x
        out = {name: torch.stack(v) for name, v in rec.items()}
        if self.layers[-1]["op"] in ("lif", "if"):
            out["__scores"] = acc.reshape(self.B, -1)
        else:
            out["__scores"] = scores / T if self.readout == "final" else acc / T
        return out

    def sam_paper(self, trains):
        """The SAM paper's way: at every step t, the contribution score of every neuron from the whole stored spike
        history (sum over t' <= t of exp(-gamma (t - t')) for its spikes), times this step's spikes, summed over
        channels. O(T^2) per neuron."""
        maps = {}
        for name in self.sam_layers:
            s = trains[name]  # [T, B, C, H, W]
            T = s.shape[0]
            out = torch.empty((T, s.shape[1], s.shape[3], s.shape[4]))
            for t in range(T):
                w = torch.exp(-self.gamma * (t - torch.arange(t + 1, dtype=torch.float64))).to(torch.float32)
                ncs = (s[: t + 1] * w.reshape(-1, 1, 1, 1, 1)).sum(0)
                out[t] = (ncs * s[t]).sum(1)
            maps[name] = out
        return maps

    def spiking_names(self):
        return [l["name"] for l in self.layers if l["op"] in ("lif", "if")]


def sha(t):
    return hashlib.sha256(t.to(torch.uint8).contiguous().numpy().tobytes()).hexdigest()


def main():
    net = None
    for line in sys.stdin:
        msg = json.loads(line)
        cmd = msg["cmd"]
        try:
            if cmd == "load":
                net = Net(msg["dir"])
                names = net.spiking_names()
                start = time.perf_counter()
                a = net.run_layerwise(record=names)
                layerwise_s = time.perf_counter() - start
                # The stepwise mode is checked (and then timed) only if it may be the faster one: its first tenth
                # of the steps is timed first, and a mode projected at over twice the layerwise time is left out.
                probe = max(1, net.T // 10)
                start = time.perf_counter()
                net.run_stepwise(steps=probe)
                projected = (time.perf_counter() - start) * net.T / probe
                b = net.run_stepwise(record=names) if projected <= 2 * layerwise_s else None
                reply = {
                    "torch": torch.__version__ + (", oneDNN linear" if net.mkldnn else ""),
                    "threads": torch.get_num_threads(),
                    "layerwise": {n: sha(a[n]) for n in names},
                    "stepwise": {n: sha(b[n]) for n in names} if b is not None else None,
                    "rates": {n: float(a[n].mean()) for n in names},
                    "scores": a["__scores"].flatten().tolist(),
                    "scoresStepwise": b["__scores"].flatten().tolist() if b is not None else None,
                    "seconds": {"layerwise": layerwise_s, "stepwiseProjected": projected, "probeSteps": probe},
                }
            elif cmd == "time":
                mode = msg["mode"]
                start = time.perf_counter()
                if mode == "layerwise":
                    net.run_layerwise()
                elif mode == "stepwise":
                    net.run_stepwise()
                elif mode == "layerwise+sam":
                    rec = net.run_layerwise(record=net.sam_layers)
                    net.sam_paper(rec)
                elif mode == "stepwise+sam":
                    rec = net.run_stepwise(record=net.sam_layers)
                    net.sam_paper(rec)
                else:
                    raise ValueError("mode " + mode)
                reply = {"seconds": time.perf_counter() - start}
            elif cmd == "sam":
                rec = net.run_layerwise(record=net.sam_layers)
                maps = net.sam_paper(rec)
                for k, v in maps.items():
                    np.save(os.path.join(msg["out"], k + ".sam.npy"), v.numpy())
                reply = {"ok": True}
            elif cmd == "quit":
                break
            else:
                raise ValueError("command " + cmd)
        except Exception as e:  # one line back, the suite reports it
            reply = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
