#!/usr/bin/env python3
"""Generate the x?? conformance cases into conformance/ with the reference simulator (spikelens_ref.py).

Deterministic: every case draws from its own numpy Generator with a fixed seed, and weight gains are tuned by a
fixed search, so running this twice writes identical files. All weights, biases, thresholds and affine parameters
are dyadic (multiples of 1/256 or 1/1024); beta values are decimal (rounded to float32 as docs/semantics.md §3 says).

  python3 scripts/reference/make_cases.py            # (re)write every x?? case, print firing rates and sizes
  python3 scripts/reference/make_cases.py x03 x05    # only the cases whose names start with these prefixes
"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spikelens_ref as R  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conformance")
F32 = np.float32
GAINS = [2.0 ** (k / 4) for k in range(-12, 17)]  # 1/8 .. 16, fixed search grid
TARGET = 0.18


def dy(a, denom=256):
    """Round to a multiple of 1/denom, as float32 (exact)."""
    return (np.round(np.asarray(a, dtype=np.float64) * denom) / denom).astype(F32)


class Case:
    def __init__(self, name, about, seed_np):
        self.name = name
        self.about = about
        self.rng = np.random.default_rng(seed_np)
        self.raw = {}        # tensor name -> float64 prototype (before gain), for tunable weights
        self.tensors = {}    # tensor name -> float32 (file order = insertion order)
        self.denom = {}
        self.tune = []       # (weight tensor, bias tensor or None, spiking layer)
        self.seed = 0
        self.gamma = 0.5
        self.ncs = "inclusive"
        self.record_v = []
        self.sam = []

    def weight(self, name, shape, spread=48, bias=None, bias_mean=0.0, denom=256):
        self.raw[name] = self.rng.integers(-spread, spread + 1, size=shape).astype(np.float64) / denom
        self.denom[name] = denom
        self.tensors[name] = dy(self.raw[name], denom)
        if bias is not None:
            self.raw[bias] = (self.rng.integers(-8, 9, size=shape[0]) / denom + bias_mean)
            self.denom[bias] = denom
            self.tensors[bias] = dy(self.raw[bias], denom)

    def set_gain(self, name, g):
        self.tensors[name] = dy(self.raw[name] * g, self.denom[name])

    def simulate(self):
        return R.simulate(self.graph, self.tensors, self.x, self.seed)[0]


def spiking_layers(graph):
    return [L["name"] for L in graph["layers"] if L["op"] in R.SPIKING]


def tune(c):
    """For each (weight, bias, layer) in order pick the gain whose firing rate is closest to TARGET."""
    for w, b, layer in c.tune:
        best = None
        for g in GAINS:
            c.set_gain(w, g)
            if b:
                c.set_gain(b, g)
            rate = float(c.simulate()[layer + ".spikes"].astype(bool).mean())
            score = abs(rate - TARGET)
            if best is None or score < best[0] - 1e-12:
                best = (score, g, rate)
        c.set_gain(w, best[1])
        if b:
            c.set_gain(b, best[1])


def write(c):
    tune(c)
    res = c.simulate()
    d = os.path.join(ROOT, c.name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    graph = dict(c.graph)
    graph["format"] = "spikelens.model/1"
    graph = {"format": graph.pop("format"), **graph}
    R.write_safetensors(os.path.join(d, "model.safetensors"), list(c.tensors.items()),
                        {"spikelens": json.dumps(graph, separators=(",", ":"))})
    np.save(os.path.join(d, "input.npy"), c.x)
    expect = {}
    arrays = {}
    if "input.spikes" in res and c.x.dtype not in (np.uint8, np.int8):
        arrays["input.spikes"] = res["input.spikes"]
    for L in graph["layers"]:
        n = L["name"]
        if L["op"] in R.SPIKING:
            arrays[n + ".spikes"] = res[n + ".spikes"]
        if n in c.record_v:
            arrays[n + ".v"] = res[n + ".v"]
    for n in c.sam:
        arrays[n + ".sam"] = R.sam_direct(res[n + ".spikes"], c.gamma, c.ncs)
        rec = R.sam_recursive(res[n + ".spikes"], c.gamma, c.ncs)
        assert R.within(rec, arrays[n + ".sam"]).all(), f"{c.name}: {n} SAM recursion vs direct sum"
    arrays["output"] = res["output"]
    for k, a in arrays.items():
        np.save(os.path.join(d, k + ".npy"), a)
        expect[k] = k + ".npy"
    case = {"model": "model.safetensors", "input": "input.npy", "seed": c.seed, "gamma": c.gamma, "ncs": c.ncs,
            "about": c.about, "expect": expect}
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    rates = []
    if "input.spikes" in res:
        rates.append(f"input {float((res['input.spikes'] != 0).mean()):.3f}")
    low = []
    for n in spiking_layers(graph):
        r = float(res[n + ".spikes"].astype(bool).mean())
        rates.append(f"{n} {r:.3f}")
        if not 0.05 <= r <= 0.40:
            low.append(n)
    print(f"{c.name}: {size / 1024:.1f} KB, T={res['output'].shape and (res[list(arrays)[0]].shape[0])}, "
          f"B={c.x.shape[1] if c.x.dtype in (np.uint8, np.int8) else c.x.shape[0]}; rates: " + ", ".join(rates)
          + (f"  WARNING out of 5-40%: {low}" if low else ""))
    assert size < 300 * 1024, f"{c.name}: {size} bytes"
    # the written case must check against itself through the file path
    assert R.check(d), c.name


# ------------------------------------------------------------------------------------------------------- cases

def x01():
    c = Case("x01-conv-geometry", "Poisson B=3 (keys 0..2), seed 3, T 12; conv 2->4 k3 stride 2 dilation 2 padding "
             "[1,2] groups 2, lif; depthwise conv 4->4 k3 p1 groups 4, lif resetDelay true subtract; sumpool2d k2 "
             "padding [1,1]; fc into li, final readout.", 101)
    c.seed = 3
    T, B = 12, 3
    c.x = c.rng.integers(0, 256, size=(B, 2, 13, 13)).astype(F32)
    c.weight("conv1.weight", (4, 1, 3, 3), bias="conv1.bias", bias_mean=0.0625)
    c.weight("conv2.weight", (4, 1, 3, 3), spread=40, bias="conv2.bias", bias_mean=0.03125)
    # conv1: H = (13 + 2 - 4 - 1)//2 + 1 = 6, W = (13 + 4 - 4 - 1)//2 + 1 = 7; sumpool: (6+2-2)//2+1=4, (7+2-2)//2+1=4
    c.weight("fc.weight", (5, 4 * 4 * 4), spread=32, bias="fc.bias")
    c.graph = {"name": c.name,
               "input": {"shape": [2, 13, 13], "preprocess": {"scale": 0.00392156862745098, "mean": [0], "std": [1]},
                         "encoding": {"kind": "poisson", "gain": 1.0}, "labels": list("abcde")},
               "timesteps": T, "readout": "final",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "stride": [2, 2], "padding": [1, 2], "dilation": [2, 2], "groups": 2},
                   {"name": "lif1", "op": "lif", "beta": 0.9, "threshold": 1.0, "reset": "subtract",
                    "resetDelay": False},
                   {"name": "dw", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias",
                    "padding": [1, 1], "groups": 4},
                   {"name": "lif2", "op": "lif", "beta": 0.8, "threshold": 0.75, "reset": "subtract",
                    "resetDelay": True},
                   {"name": "pool", "op": "sumpool2d", "kernel": [2, 2], "stride": [2, 2], "padding": [1, 1]},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight", "bias": "fc.bias"},
                   {"name": "out", "op": "li", "beta": 0.9}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", "conv2.bias", "lif2")]
    c.record_v = ["lif1", "lif2", "out"]
    c.sam = ["lif1", "lif2"]
    return c


def x02():
    c = Case("x02-pools-padding", "Spike train uint8 [10,2,2,12,12]; conv k3 p1, lif resetDelay true reset zero; "
             "maxpool2d k3 s2 p1 (-inf padding); conv k3 p1, lif; avgpool2d k3 s2 p1 (padding counted, /9: "
             "non-dyadic, so the fc sum order of docs/model-format.md matters); fc, lif; count readout.", 102)
    T, B = 10, 2
    c.x = (c.rng.random((T, B, 2, 12, 12)) < 0.3).astype(np.uint8)
    c.weight("conv1.weight", (4, 2, 3, 3), bias="conv1.bias", bias_mean=0.0)
    c.weight("conv2.weight", (6, 4, 3, 3), spread=40)
    # maxpool: (12+2-3)//2+1 = 6; avgpool: (6+2-3)//2+1 = 3
    c.weight("fc.weight", (8, 6 * 3 * 3), spread=40, bias="fc.bias")
    c.graph = {"name": c.name, "input": {"shape": [2, 12, 12]}, "timesteps": T,
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.85, "reset": "zero", "resetDelay": True},
                   {"name": "mp", "op": "maxpool2d", "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "padding": [1, 1]},
                   {"name": "lif2", "op": "lif", "beta": 0.9, "threshold": 0.5},
                   {"name": "ap", "op": "avgpool2d", "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1]},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight", "bias": "fc.bias"},
                   {"name": "lif3", "op": "lif", "beta": 0.95, "threshold": 0.25}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", None, "lif2"), ("fc.weight", "fc.bias", "lif3")]
    c.record_v = ["lif1", "lif2", "lif3"]
    c.sam = ["lif1", "lif2"]
    return c


def x03():
    c = Case("x03-direct-affine-bntt", "Direct encoding, 3 channels, scale 1/255 and per-channel mean/std (non-dyadic "
             "currents, so the conv order of docs/model-format.md matters); conv, affine [C], lif with per-channel beta tensor and "
             "per-neuron threshold tensor; conv, affine [T,C] (BNTT rows), lif reset zero with vReset -0.25 (also the "
             "initial state); fc into li, mean readout.", 103)
    T, B = 8, 2
    c.x = c.rng.integers(0, 256, size=(B, 3, 8, 8)).astype(F32)
    c.weight("conv1.weight", (4, 3, 3, 3), spread=48, bias="conv1.bias", bias_mean=0.125)
    c.tensors["bn1.scale"] = dy(c.rng.integers(128, 384, 4) / 256)
    c.tensors["bn1.shift"] = dy(c.rng.integers(-32, 33, 4) / 256)
    c.tensors["lif1.beta"] = np.array([0.8, 0.85, 0.9, 0.95], dtype=F32)
    c.tensors["lif1.threshold"] = dy(c.rng.integers(48, 80, (4, 8, 8)) / 64)
    c.weight("conv2.weight", (4, 4, 3, 3), spread=48)
    c.tensors["bn2.scale"] = dy(c.rng.integers(160, 352, (T + 2, 4)) / 256)   # more rows than steps is allowed
    c.tensors["bn2.shift"] = dy(c.rng.integers(0, 64, (T + 2, 4)) / 256)
    c.weight("fc.weight", (3, 4 * 6 * 6), spread=32, bias="fc.bias")
    c.graph = {"name": c.name,
               "input": {"shape": [3, 8, 8],
                         "preprocess": {"scale": 0.00392156862745098, "mean": [0.485, 0.456, 0.406],
                                        "std": [0.229, 0.224, 0.225]},
                         "encoding": {"kind": "direct"}},
               "timesteps": T, "readout": "mean",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "bn1", "op": "affine", "scale": "bn1.scale", "shift": "bn1.shift"},
                   {"name": "lif1", "op": "lif", "beta": "lif1.beta", "threshold": "lif1.threshold",
                    "reset": "subtract"},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight"},
                   {"name": "bn2", "op": "affine", "scale": "bn2.scale", "shift": "bn2.shift"},
                   {"name": "lif2", "op": "lif", "beta": 0.9, "threshold": 1.0, "reset": "zero", "vReset": -0.25},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight", "bias": "fc.bias"},
                   {"name": "out", "op": "li", "beta": 0.95}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", None, "lif2")]
    c.record_v = ["lif1", "lif2", "out"]
    c.sam = ["lif1", "lif2"]
    return c


def x04():
    c = Case("x04-signed-poisson", "Signed-poisson gain 0.5 (int8 input spikes recorded), pixels scale 1/256 mean 0.5 "
             "std 0.25, seed 11, B 2, T 14; conv, lif resetDelay true reset zero; sumpool2d k2 s2 p1; conv; lif reset "
             "none; count readout over a flattened conv-shaped lif.", 104)
    c.seed = 11
    T, B = 14, 2
    c.x = c.rng.integers(0, 256, size=(B, 1, 10, 10)).astype(F32)
    c.weight("conv1.weight", (4, 1, 3, 3), spread=64)
    c.weight("conv2.weight", (3, 4, 3, 3), spread=40, bias="conv2.bias", bias_mean=-0.0625)
    c.graph = {"name": c.name,
               "input": {"shape": [1, 10, 10], "preprocess": {"scale": 0.00390625, "mean": [0.5], "std": [0.25]},
                         "encoding": {"kind": "signed-poisson", "gain": 0.5}},
               "timesteps": T, "readout": "count",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.9, "threshold": 0.5, "reset": "zero", "resetDelay": True},
                   {"name": "sp", "op": "sumpool2d", "kernel": [2, 2], "padding": [1, 1]},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias"},
                   {"name": "lif2", "op": "lif", "beta": 0.7, "threshold": 1.0, "reset": "none"}]}
    c.tune = [("conv1.weight", None, "lif1"), ("conv2.weight", "conv2.bias", "lif2")]
    c.record_v = ["lif1", "lif2"]
    c.sam = ["lif1", "lif2"]
    return c


def x05():
    c = Case("x05-if-batch5-official", "Poisson B=5 (keys 0..4), seed 12345, T 10; conv, if subtract; conv stride 2, "
             "if reset zero resetDelay true as a conv-shaped last layer, count readout (flattened); SAM official "
             "gamma 0.3.", 105)
    c.seed = 12345
    c.gamma = 0.3
    c.ncs = "official"
    T, B = 10, 5
    c.x = c.rng.integers(0, 256, size=(B, 1, 9, 9)).astype(F32)
    c.weight("conv1.weight", (3, 1, 3, 3), spread=64, bias="conv1.bias", bias_mean=-0.03125)
    c.weight("conv2.weight", (4, 3, 3, 3), spread=40)
    c.graph = {"name": c.name,
               "input": {"shape": [1, 9, 9], "preprocess": {"scale": 0.00392156862745098},
                         "encoding": {"kind": "poisson", "gain": 0.75}},
               "timesteps": T,
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "if1", "op": "if", "threshold": 1.0},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "stride": [2, 2], "padding": [1, 1]},
                   {"name": "if2", "op": "if", "threshold": 0.75, "reset": "zero", "resetDelay": True}]}
    c.tune = [("conv1.weight", "conv1.bias", "if1"), ("conv2.weight", None, "if2")]
    c.record_v = ["if1", "if2"]
    c.sam = ["if1", "if2"]
    return c


def x06():
    c = Case("x06-flat-train", "Spike train uint8 rank 3 [16,2,40] into a flat network: fc 40->24, lif resetDelay "
             "true subtract with a per-neuron beta tensor; fc 24->5, li beta 0.875; final readout (defaults).", 106)
    T, B = 16, 2
    c.x = (c.rng.random((T, B, 40)) < 0.25).astype(np.uint8)
    c.weight("fc1.weight", (24, 40), spread=64, bias="fc1.bias", bias_mean=0.0)
    c.tensors["lif1.beta"] = np.round(c.rng.uniform(0.7, 0.99, 24), 3).astype(F32)
    c.weight("fc2.weight", (5, 24), spread=64, bias="fc2.bias")
    c.graph = {"name": c.name, "input": {"shape": [40]},
               "layers": [
                   {"name": "fc1", "op": "linear", "weight": "fc1.weight", "bias": "fc1.bias"},
                   {"name": "lif1", "op": "lif", "beta": "lif1.beta", "resetDelay": True},
                   {"name": "fc2", "op": "linear", "weight": "fc2.weight", "bias": "fc2.bias"},
                   {"name": "out", "op": "li", "beta": 0.875}]}
    c.tune = [("fc1.weight", "fc1.bias", "lif1")]
    c.record_v = ["lif1", "out"]
    return c


def x07():
    c = Case("x07-count-train-strict", "Event-count train uint8 0..5 [8,2,2,10,10] entering conv1 as values; conv, "
             "lif with vReset tensor [C] and reset zero; maxpool2d k2 s2 p1; conv, if; flatten, fc, lif; count "
             "readout; SAM strict gamma 0.7.", 107)
    c.gamma = 0.7
    c.ncs = "strict"
    T, B = 8, 2
    x = np.minimum(c.rng.poisson(0.8, size=(T, B, 2, 10, 10)), 5)
    x[0, 0, 0, 0, 0] = 5
    c.x = x.astype(np.uint8)
    c.weight("conv1.weight", (4, 2, 3, 3), spread=32, bias="conv1.bias", bias_mean=-0.0625)
    c.tensors["lif1.vreset"] = np.array([0.0, -0.5, 0.25, -0.125], dtype=F32)
    c.weight("conv2.weight", (4, 4, 3, 3), spread=40, bias="conv2.bias")
    # maxpool: (10+2-2)//2+1 = 6; conv2 p0: 4
    c.weight("fc.weight", (6, 4 * 4 * 4), spread=40)
    c.graph = {"name": c.name, "input": {"shape": [2, 10, 10]},
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.75, "threshold": 1.5, "reset": "zero",
                    "vReset": "lif1.vreset"},
                   {"name": "mp", "op": "maxpool2d", "kernel": [2, 2], "padding": [1, 1]},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias"},
                   {"name": "if1", "op": "if", "threshold": 1.0, "reset": "subtract"},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight"},
                   {"name": "lif3", "op": "lif", "beta": 0.9, "reset": "subtract", "resetDelay": True}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", "conv2.bias", "if1"), ("fc.weight", None, "lif3")]
    c.record_v = ["lif1", "if1", "lif3"]
    c.sam = ["lif1", "if1"]
    return c


def x08():
    c = Case("x08-relu-analog", "Direct encoding (1 channel, mean 0.25 std 0.5) into an analog ANN path conv-relu-"
             "avgpool2d k2 p1 (padding counted), then conv, lif (beta 0.9) with a per-neuron threshold tensor; fc into "
             "li, mean readout; B 3.", 108)
    T, B = 6, 3
    c.x = c.rng.integers(0, 256, size=(B, 1, 10, 10)).astype(F32)
    c.weight("conv1.weight", (4, 1, 3, 3), spread=64, bias="conv1.bias", denom=1024)
    c.weight("conv2.weight", (4, 4, 3, 3), spread=48, bias="conv2.bias", bias_mean=0.0)
    c.tensors["lif1.threshold"] = dy(c.rng.integers(40, 88, (4, 4, 4)) / 64, 1024)
    # relu 10x10 -> avgpool k2 s2 p1: (10+2-2)//2+1 = 6 -> conv2 k3: 4
    c.weight("fc.weight", (4, 4 * 4 * 4), spread=32, bias="fc.bias")
    c.graph = {"name": c.name,
               "input": {"shape": [1, 10, 10], "preprocess": {"scale": 0.00392156862745098, "mean": [0.25],
                                                              "std": [0.5]},
                         "encoding": {"kind": "direct"}},
               "timesteps": T, "readout": "mean",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "act", "op": "relu"},
                   {"name": "ap", "op": "avgpool2d", "kernel": [2, 2], "padding": [1, 1]},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias"},
                   {"name": "lif1", "op": "lif", "beta": 0.9, "threshold": "lif1.threshold"},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight", "bias": "fc.bias"},
                   {"name": "out", "op": "li"}]}
    c.tune = [("conv2.weight", "conv2.bias", "lif1")]
    c.record_v = ["lif1", "out"]
    c.sam = ["lif1"]
    return c


def x09():
    c = Case("x09-resets-b1", "Poisson B=1, seed 42, T 16; conv, lif resetDelay true reset zero with vReset -0.5 "
             "(initial state too); conv, lif reset none resetDelay true; conv 1x1, if resetDelay true subtract; "
             "flatten, fc, li; final readout; SAM inclusive gamma 0.25.", 109)
    c.seed = 42
    c.gamma = 0.25
    T, B = 16, 1
    c.x = c.rng.integers(0, 256, size=(B, 2, 8, 8)).astype(F32)
    c.weight("conv1.weight", (3, 2, 3, 3), spread=48, bias="conv1.bias", bias_mean=0.0625)
    c.weight("conv2.weight", (3, 3, 3, 3), spread=48, bias="conv2.bias", bias_mean=-0.125)
    c.weight("conv3.weight", (2, 3, 1, 1), spread=64)
    c.weight("fc.weight", (3, 2 * 8 * 8), spread=32)
    c.graph = {"name": c.name,
               "input": {"shape": [2, 8, 8], "preprocess": {"scale": 0.00392156862745098, "mean": [0], "std": [1]},
                         "encoding": {"kind": "poisson"}},
               "timesteps": T, "readout": "final",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.9, "threshold": 1.0, "reset": "zero", "resetDelay": True,
                    "vReset": -0.5},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias",
                    "padding": [1, 1]},
                   {"name": "lif2", "op": "lif", "beta": 0.6, "threshold": 1.0, "reset": "none", "resetDelay": True},
                   {"name": "conv3", "op": "conv2d", "weight": "conv3.weight"},
                   {"name": "if1", "op": "if", "threshold": 1.25, "reset": "subtract", "resetDelay": True},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight"},
                   {"name": "out", "op": "li", "beta": 1.0}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", "conv2.bias", "lif2"),
              ("conv3.weight", None, "if1")]
    c.record_v = ["lif1", "lif2", "if1", "out"]
    c.sam = ["lif1", "lif2", "if1"]
    return c


def x10():
    c = Case("x10-flat-poisson-b3", "", 110)
    c.seed = 5
    T, B = 12, 3
    c.x = c.rng.integers(0, 256, size=(B, 48)).astype(F32)
    c.weight("fc1.weight", (16, 48), spread=48, bias="fc1.bias", bias_mean=0.0)
    c.tensors["lif1.threshold"] = dy(c.rng.integers(48, 96, 16) / 64)
    c.tensors["lif1.beta"] = np.round(c.rng.uniform(0.6, 0.95, 16), 2).astype(F32)
    c.weight("fc2.weight", (4, 16), spread=64, bias="fc2.bias")
    c.graph = {"name": c.name,
               "input": {"shape": [48], "preprocess": {"scale": 0.00392156862745098},
                         "encoding": {"kind": "poisson", "gain": 1.0}},
               "timesteps": T,
               "layers": [
                   {"name": "fc1", "op": "linear", "weight": "fc1.weight", "bias": "fc1.bias"},
                   {"name": "lif1", "op": "lif", "beta": "lif1.beta", "threshold": "lif1.threshold"},
                   {"name": "fc2", "op": "linear", "weight": "fc2.weight", "bias": "fc2.bias"},
                   {"name": "out", "op": "li", "beta": 0.9}]}
    c.about = ("Poisson on a flat analog input [3,48] (rank 2; keys 0..2; draws in order t, n), seed 5, T 12; fc, lif "
               "with per-neuron beta and threshold tensors; fc into li; readout defaulted (final after li).")
    c.tune = [("fc1.weight", "fc1.bias", "lif1")]
    c.record_v = ["lif1", "out"]
    return c


def x11():
    c = Case("x11-maxpool-negative-nonsquare", "Direct encoding on a non-square [2,7,9] input (mean 0.5, std 0.25: "
             "negative currents); conv kernel [2,3] stride [1,2] padding [1,0] with a negative bias; maxpool2d kernel "
             "[2,2] stride [1,2] padding [1,1] over negative values (so -inf padding differs from 0 padding); lif with "
             "a per-neuron vReset tensor and reset zero; fc; affine [T,C] on a flat layer; lif resetDelay true reset "
             "zero; count readout.", 111)
    T, B = 9, 2
    c.x = c.rng.integers(0, 256, size=(B, 2, 7, 9)).astype(F32)
    c.weight("conv1.weight", (3, 2, 2, 3), spread=48, bias="conv1.bias", bias_mean=-0.25)
    # conv: H = (7+2-2)//1+1 = 8, W = (9-3)//2+1 = 4; maxpool: (8+2-2)//1+1 = 9, (4+2-2)//2+1 = 3
    c.tensors["lif1.vreset"] = dy(c.rng.integers(-64, 1, (3, 9, 3)) / 128)
    c.weight("fc.weight", (6, 3 * 9 * 3), spread=40)
    c.tensors["bn.scale"] = dy(c.rng.integers(192, 320, (T, 6)) / 256)
    c.tensors["bn.shift"] = dy(c.rng.integers(-16, 48, (T, 6)) / 256)
    c.graph = {"name": c.name,
               "input": {"shape": [2, 7, 9], "preprocess": {"scale": 0.00390625, "mean": [0.5], "std": [0.25]},
                         "encoding": {"kind": "direct"}},
               "timesteps": T, "readout": "count",
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "stride": [1, 2], "padding": [1, 0]},
                   {"name": "mp", "op": "maxpool2d", "kernel": [2, 2], "stride": [1, 2], "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.8, "threshold": 1.0, "reset": "zero",
                    "vReset": "lif1.vreset"},
                   {"name": "flat", "op": "flatten"},
                   {"name": "fc", "op": "linear", "weight": "fc.weight"},
                   {"name": "bn", "op": "affine", "scale": "bn.scale", "shift": "bn.shift"},
                   {"name": "lif2", "op": "lif", "beta": 0.9, "threshold": 0.5, "reset": "zero", "resetDelay": True}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("fc.weight", None, "lif2")]
    c.record_v = ["lif1", "lif2"]
    c.sam = ["lif1"]
    return c


def x12():
    c = Case("x12-signed-train-official", "Signed int8 spike train -1/0/1 [9,2,2,8,8] entering conv1 as values; conv, "
             "lif; avgpool2d k2 (stride defaulted to the kernel); conv 1x1, if; count readout; SAM official gamma 1.0.",
             112)
    c.gamma = 1.0
    c.ncs = "official"
    T, B = 9, 2
    r = c.rng.random((T, B, 2, 8, 8))
    c.x = np.where(r < 0.2, 1, np.where(r > 0.9, -1, 0)).astype(np.int8)
    c.weight("conv1.weight", (4, 2, 3, 3), spread=48, bias="conv1.bias", bias_mean=0.03125)
    c.weight("conv2.weight", (3, 4, 1, 1), spread=64, bias="conv2.bias")
    c.graph = {"name": c.name, "input": {"shape": [2, 8, 8]},
               "layers": [
                   {"name": "conv1", "op": "conv2d", "weight": "conv1.weight", "bias": "conv1.bias",
                    "padding": [1, 1]},
                   {"name": "lif1", "op": "lif", "beta": 0.9},
                   {"name": "ap", "op": "avgpool2d", "kernel": [2, 2]},
                   {"name": "conv2", "op": "conv2d", "weight": "conv2.weight", "bias": "conv2.bias"},
                   {"name": "if1", "op": "if", "threshold": 0.5}]}
    c.tune = [("conv1.weight", "conv1.bias", "lif1"), ("conv2.weight", "conv2.bias", "if1")]
    c.record_v = ["lif1", "if1"]
    c.sam = ["lif1", "if1"]
    return c


CASES = [x01, x02, x03, x04, x05, x06, x07, x08, x09, x10, x11, x12]


def main(argv):
    R.prng_self_test()
    for make in CASES:
        c = make()
        if argv and not any(c.name.startswith(p) for p in argv):
            continue
        write(c)


if __name__ == "__main__":
    main(sys.argv[1:])
