#!/usr/bin/env python3
"""Independent float32 reference simulator for spikelens, written from the semantics alone (docs/semantics.md).

Usage:
  python3 scripts/reference/spikelens_ref.py conformance/CASE [conformance/CASE2 ...]
      simulate each case from its case.json and compare with its expected arrays (one line per case)
  python3 scripts/reference/spikelens_ref.py --all [ROOT]
      check every folder with a case.json under ROOT (default: conformance/ beside this script's repo)
  python3 scripts/reference/spikelens_ref.py CASE --out DIR
      also write the simulated arrays (named as in case.json `expect`) to DIR

Everything on the simulation path is numpy float32: every product and every sum is rounded to float32 on its own
(numpy never fuses a multiply and an add), and every sum is accumulated from 0 in the order docs/semantics.md §2 fixes.
Only the SAM oracle (docs/semantics.md §8) is computed in float64 by its direct-sum definition and rounded once at the end;
the O(1)-state float32 recursion is computed too and checked against it.
"""
import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32
M32 = 0xFFFFFFFF

# ----------------------------------------------------------------------------------------------- safetensors I/O

_DT = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "F16": np.dtype("<f2"), "I32": np.dtype("<i4"),
       "I64": np.dtype("<i8"), "U8": np.dtype("u1"), "I8": np.dtype("i1")}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    if n > 100 * 1024 * 1024 or 8 + n > len(buf):
        raise ValueError(f"{path}: bad header size {n}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, d in header.items():
        dt = _DT[d["dtype"]]
        a, b = d["data_offsets"]
        count = int(np.prod(d["shape"])) if d["shape"] else 1
        if b - a != count * dt.itemsize or base + b > len(buf):
            raise ValueError(f"{path}: tensor {name}: bad data_offsets")
        tensors[name] = np.frombuffer(buf, dtype=dt, count=count, offset=base + a).reshape(d["shape"]).copy()
    return tensors, meta


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 array) in file order; metadata: dict of str -> str."""
    header = {"__metadata__": metadata}
    off = 0
    blobs = []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


# ----------------------------------------------------------------------------------------------------- PRNG (§4)

def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Stream:
    """splitmix32-seeded xoshiro128** stream for one sample (docs/semantics.md §6)."""

    def __init__(self, seed, key):
        x = (int(seed) + 4 * 0x9E3779B9 * int(key)) % (1 << 32)
        s = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & M32
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M32
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M32
            s.append(z ^ (z >> 16))
        self.s = s

    def next(self):
        s0, s1, s2, s3 = self.s
        r = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return r

    def uniforms(self, n):
        """n draws u = (next >>> 8) * 2^-24, exact in float64 (and in float32)."""
        out = np.empty(n, dtype=np.float64)
        nx = self.next
        for i in range(n):
            out[i] = (nx() >> 8) * (1.0 / 16777216.0)
        return out


def prng_self_test():
    known = {(0, 0): [0xe308dc58, 0x4392d0e4, 0x03318f97, 0xac593a63],
             (7, 1): [0xa9877f15, 0xe31dca2d, 0x314d4a57, 0xa1c94c52],
             (12345, 2): [0xfc752743, 0x57babc3f, 0x689948ac, 0x685aee43]}
    states = {(0, 0): [0x92ca2f0e, 0x3cd6e3f3, 0x1b147dcc, 0x4c081dbf],
              (7, 1): [0x722d0163, 0x45461cc7, 0xacc40fc0, 0x41ffe0e5],
              (12345, 2): [0xc428c1e0, 0x2b10e8c3, 0x86be977b, 0x5ddf8fdc]}
    for (seed, key), want in known.items():
        st = Stream(seed, key)
        assert st.s == states[(seed, key)], (seed, key, [hex(v) for v in st.s])
        got = [st.next() for _ in range(4)]
        assert got == want, (seed, key, [hex(v) for v in got])


# ------------------------------------------------------------------------------------------------------ ops (§2)

def _pair(v, default):
    if v is None:
        v = default
    if isinstance(v, (int, float)):
        return int(v), int(v)
    return int(v[0]), int(v[1])


def conv2d(x, w, b, stride, padding, dilation, groups):
    """x [N,Cin,H,W] f32, w [Cout,Cin/g,kH,kW]. Sum over (ky, kx, cin), cin fastest, from +0, bias last."""
    n, cin, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    assert cin == cin_g * groups and cout % groups == 0, "conv2d: channel/group mismatch"
    cout_g = cout // groups
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.zeros((n, cin, h + 2 * ph, wd + 2 * pw), dtype=F32)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    out = np.zeros((n, cout, ho, wo), dtype=F32)
    for g in range(groups):
        acc = np.zeros((n, cout_g, ho, wo), dtype=F32)
        for ky in range(kh):
            for kx in range(kw):
                for ci in range(cin_g):
                    patch = xp[:, g * cin_g + ci,
                               ky * dh: ky * dh + sh * (ho - 1) + 1: sh,
                               kx * dw: kx * dw + sw * (wo - 1) + 1: sw]
                    wv = w[g * cout_g:(g + 1) * cout_g, ci, ky, kx].astype(F32)
                    prod = patch[:, None, :, :] * wv[None, :, None, None]  # fl(x*w)
                    acc = acc + prod                                       # fl(acc + .)
        out[:, g * cout_g:(g + 1) * cout_g] = acc
    if b is not None:
        out = out + b.astype(F32)[None, :, None, None]
    return out.astype(F32)


def linear(x, w, b):
    """x [N,in], w [out,in]: ascending input index, from +0, bias last."""
    n, nin = x.shape
    assert w.shape[1] == nin, f"linear: weight {w.shape} vs input {nin}"
    acc = np.zeros((n, w.shape[0]), dtype=F32)
    for i in range(nin):
        acc = acc + x[:, i:i + 1] * w[None, :, i]
    if b is not None:
        acc = acc + b.astype(F32)[None, :]
    return acc


def pool2d(x, kind, kernel, stride, padding):
    n, c, h, wd = x.shape
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (wd + 2 * pw - kw) // sw + 1
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((n, c, h + 2 * ph, wd + 2 * pw), fill, dtype=F32)
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    if kind == "max":
        acc = np.full((n, c, ho, wo), -np.inf, dtype=F32)
    else:
        acc = np.zeros((n, c, ho, wo), dtype=F32)
    for ky in range(kh):          # window row by row
        for kx in range(kw):
            win = xp[:, :, ky: ky + sh * (ho - 1) + 1: sh, kx: kx + sw * (wo - 1) + 1: sw]
            acc = np.maximum(acc, win) if kind == "max" else acc + win
    if kind == "avg":
        acc = acc / F32(kh * kw)  # fl(sum / (kH*kW)), padding counted
    return acc.astype(F32)


# ----------------------------------------------------------------------------------------------- the simulation

NEURONS = ("lif", "if", "li")
SPIKING = ("lif", "if")


def _param(layer, field, tensors, shape, default):
    """number, [C] tensor, or whole-layer-shape tensor -> float32 array broadcastable to [B, *shape]."""
    v = layer.get(field, default)
    if v is None:
        v = default
    if isinstance(v, str):
        t = tensors[v].astype(F32)
        if list(t.shape) == list(shape):
            return t[None]
        if t.ndim == 1 and t.shape[0] == shape[0]:
            return t.reshape((1, shape[0]) + (1,) * (len(shape) - 1))
        raise ValueError(f"layer {layer['name']}: {field} tensor {v} has shape {t.shape}, layer shape {shape}")
    return F32(v)


def encode(graph, x, seed):
    """x: float32 pixels [B,C,H,W] or [B,N] -> (per-step input [T,B,...] float32, record array or None)."""
    inp = graph.get("input", {})
    T = int(graph["timesteps"])
    pre = inp.get("preprocess") or {}
    scale = F32(pre.get("scale", 1.0))
    mean = np.asarray(pre.get("mean", [0.0]), dtype=F32)
    std = np.asarray(pre.get("std", [1.0]), dtype=F32)
    C = x.shape[1]
    bshape = (1, C) + (1,) * (x.ndim - 2)
    mean = np.broadcast_to(mean, (C,)).reshape(bshape) if mean.size == 1 else mean.reshape(bshape)
    std = np.broadcast_to(std, (C,)).reshape(bshape) if std.size == 1 else std.reshape(bshape)
    xs = ((x.astype(F32) * scale) - mean) / std  # three float32 roundings
    xs = xs.astype(F32)
    enc = inp.get("encoding") or {"kind": "poisson"}
    kind = enc.get("kind", "poisson")
    gain = F32(enc.get("gain", 1.0))
    B = x.shape[0]
    if kind == "direct":
        return np.broadcast_to(xs[None], (T,) + xs.shape).astype(F32), None
    if kind == "poisson":
        p = np.minimum(F32(1), np.maximum(F32(0), (gain * xs).astype(F32)))
        dtype = np.uint8
    elif kind == "signed-poisson":
        p = np.minimum(F32(1), (gain * np.abs(xs)).astype(F32))
        dtype = np.int8
    else:
        raise ValueError(f"unknown encoding {kind}")
    per = int(np.prod(x.shape[1:]))
    spikes = np.zeros((T, B) + x.shape[1:], dtype=dtype)
    for b in range(B):
        u = Stream(seed, b).uniforms(T * per).reshape((T,) + x.shape[1:])  # order t, c, h, w
        fire = u < p[b].astype(np.float64)[None]
        if kind == "poisson":
            spikes[:, b] = fire.astype(np.uint8)
        else:
            spikes[:, b] = (fire * np.sign(xs[b])[None]).astype(np.int8)
    return spikes.astype(F32), spikes


def simulate(graph, tensors, x, seed=0):
    """Returns (results dict name -> array, info). Records every neuron layer's .spikes/.v and `input`."""
    res = {}
    if x.dtype in (np.uint8, np.int8, np.bool_):
        if x.ndim not in (3, 5):
            raise ValueError("spike train input must be rank 3 or 5")
        T = x.shape[0]
        cur = x.astype(F32)
        res["input.spikes"] = x.astype(np.uint8) if x.dtype == np.bool_ else x
    else:
        if x.ndim not in (2, 4):
            raise ValueError("analog input must be rank 2 or 4")
        T = int(graph["timesteps"])
        cur, rec = encode(graph, x, seed)
        if rec is not None:
            res["input.spikes"] = rec
    B = cur.shape[1]
    layers = graph["layers"]
    last_kind = None
    for li_, L in enumerate(layers):
        op = L["op"]
        name = L["name"]
        shape = cur.shape[2:]
        flat = cur.reshape((T * B,) + shape)
        if op == "conv2d":
            w = tensors[L["weight"]].astype(F32)
            b = tensors[L["bias"]] if L.get("bias") else None
            y = conv2d(flat, w, b, _pair(L.get("stride"), 1), _pair(L.get("padding"), 0),
                       _pair(L.get("dilation"), 1), int(L.get("groups", 1)))
            cur = y.reshape((T, B) + y.shape[1:])
        elif op == "linear":
            w = tensors[L["weight"]].astype(F32)
            b = tensors[L["bias"]] if L.get("bias") else None
            y = linear(flat, w, b)
            cur = y.reshape((T, B) + y.shape[1:])
        elif op in ("avgpool2d", "sumpool2d", "maxpool2d"):
            k = _pair(L["kernel"], None)
            y = pool2d(flat, op[:3], k, _pair(L.get("stride"), None) if L.get("stride") is not None else k,
                       _pair(L.get("padding"), 0))
            cur = y.reshape((T, B) + y.shape[1:])
        elif op == "flatten":
            cur = cur.reshape(T, B, -1)
        elif op == "relu":
            cur = np.maximum(cur, F32(0)).astype(F32)
        elif op == "affine":
            sc = tensors[L["scale"]].astype(F32) if isinstance(L["scale"], str) else np.full(shape[0], L["scale"], F32)
            sh = tensors[L["shift"]].astype(F32) if isinstance(L["shift"], str) else np.full(shape[0], L["shift"], F32)
            tail = (1,) * (len(shape) - 1)

            def rows(p):
                if p.ndim == 1:
                    return p.reshape((1, 1, shape[0]) + tail)
                if p.shape[0] < T:
                    raise ValueError(f"layer {name}: affine has {p.shape[0]} rows, run has {T} steps")
                return p[:T].reshape((T, 1, shape[0]) + tail)
            cur = ((cur * rows(sc)).astype(F32) + rows(sh)).astype(F32)
        elif op in NEURONS:
            cur = neuron(L, tensors, cur, res)
        else:
            raise ValueError(f"layer {name}: unknown op {op}")
        last_kind = op
    # readout (§2)
    last = layers[-1]
    readout = graph.get("readout") or ("final" if last["op"] == "li" else "count")
    if readout == "final":
        vT = res[last["name"] + ".v"][-1]
        out = (vT / F32(T)).astype(F32)
    elif readout == "mean":
        v = res[last["name"] + ".v"].astype(np.float64)
        out = v.mean(axis=0).astype(F32)
    elif readout == "count":
        s = res[last["name"] + ".spikes"].astype(np.float64)
        out = s.sum(axis=0).reshape(B, -1).astype(F32)
    else:
        raise ValueError(f"unknown readout {readout}")
    res["output"] = out.reshape(B, -1)
    return res, {"T": T, "B": B, "readout": readout}


def neuron(L, tensors, cur, res):
    op = L["op"]
    name = L["name"]
    T, B = cur.shape[:2]
    shape = cur.shape[2:]
    if op == "li":
        beta = _param(L, "beta", tensors, shape, 1.0)
        v = np.zeros((B,) + shape, dtype=F32)
        vs = np.zeros(cur.shape, dtype=F32)
        for t in range(T):
            v = ((beta * v).astype(F32) + cur[t]).astype(F32)
            vs[t] = v
        res[name + ".v"] = vs
        return vs.copy()
    beta = F32(1.0) if op == "if" else _param(L, "beta", tensors, shape, None)
    if op == "lif" and L.get("beta") is None:
        raise ValueError(f"layer {name}: lif needs beta")
    thr = _param(L, "threshold", tensors, shape, 1.0)
    vreset = _param(L, "vReset", tensors, shape, 0.0)
    reset = L.get("reset", "subtract") or "subtract"
    delay = bool(L.get("resetDelay", False))
    v = np.zeros((B,) + shape, dtype=F32) + vreset  # state starts at vReset
    v = v.astype(F32)
    p = np.zeros((B,) + shape, dtype=bool)
    S = np.zeros(cur.shape, dtype=np.uint8)
    V = np.zeros(cur.shape, dtype=F32)
    vr_full = np.broadcast_to(vreset, v.shape).astype(F32)
    for t in range(T):
        I = cur[t]
        if not delay or reset == "none":
            v = ((beta * v).astype(F32) + I).astype(F32)
            s = v > thr
            if reset == "subtract":
                v = (v - (thr * s.astype(F32)).astype(F32)).astype(F32)
            elif reset == "zero":
                v = np.where(s, vr_full, v).astype(F32)
            elif reset != "none":
                raise ValueError(f"layer {name}: unknown reset {reset}")
        else:
            if reset == "subtract":
                v = ((((beta * v).astype(F32) + I).astype(F32)) - (thr * p.astype(F32)).astype(F32)).astype(F32)
            elif reset == "zero":
                v = ((beta * np.where(p, vr_full, v)).astype(F32) + I).astype(F32)
            else:
                raise ValueError(f"layer {name}: unknown reset {reset}")
            s = v > thr
        p = s
        S[t] = s
        V[t] = v
    res[name + ".spikes"] = S
    res[name + ".v"] = V
    return S.astype(F32)


# ------------------------------------------------------------------------------------------------------ SAM (§5)

def sam_direct(S, gamma, ncs):
    """Float64 direct-sum definition of N, heatmap summed in float64, rounded to float32 once."""
    S = S.astype(np.float64)
    T = S.shape[0]
    t = np.arange(T)[:, None].astype(np.float64)
    tp = np.arange(T)[None, :].astype(np.float64)
    if ncs in ("inclusive", "strict"):
        mask = (tp <= t) if ncs == "inclusive" else (tp < t)
        W = np.where(mask, np.exp(-gamma * (t - tp)), 0.0)
        N = np.tensordot(W, S, axes=(1, 0))
    elif ncs == "official":
        N = np.zeros_like(S)
        for ti in range(T):
            terms = np.exp(-gamma * (ti - S[:ti + 1] * np.arange(ti + 1).reshape((-1,) + (1,) * (S.ndim - 1))))
            N[ti] = terms.sum(axis=0)
    else:
        raise ValueError(f"unknown ncs {ncs}")
    M = (N * S).sum(axis=2)  # sum over k (channels)
    return M.astype(F32)


def sam_recursive(S, gamma, ncs):
    """The O(1)-state float32 recursion of §5, for a cross-check."""
    g = F32(math.exp(-gamma))
    T = S.shape[0]
    Sf = S.astype(F32)
    N = np.zeros(S.shape[1:], dtype=F32)
    prev = np.zeros(S.shape[1:], dtype=F32)
    M = np.zeros((T,) + S.shape[1:2] + S.shape[3:], dtype=F32)
    for t in range(T):
        if ncs == "inclusive":
            N = (g * N + Sf[t]).astype(F32)
        elif ncs == "strict":
            N = (g * (N + prev)).astype(F32)
        else:
            N = (g * N + np.where(S[t] > 0, F32(1), F32(math.exp(-gamma * t)))).astype(F32)
        prev = Sf[t]
        M[t] = (N * Sf[t]).sum(axis=1, dtype=F32)
    return M


# --------------------------------------------------------------------------------------------------- case driver

def within(a, e):
    a = np.asarray(a, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    return np.abs(a - e) <= np.maximum(1e-5 * np.abs(e), 1e-6)


def run_case(case_dir):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    tensors, meta = read_safetensors(os.path.join(case_dir, case["model"]))
    graph = json.loads(meta["spikelens"])
    assert graph.get("format") == "spikelens.model/1", "format"
    x = np.load(os.path.join(case_dir, case["input"]))
    res, info = simulate(graph, tensors, x, case.get("seed", 0))
    gamma = float(case.get("gamma", 0.5))
    ncs = case.get("ncs", "inclusive")
    out = {}
    notes = []
    for key in case["expect"]:
        if key.endswith(".sam"):
            S = res[key[:-4] + ".spikes"]
            if S.ndim != 5:
                raise ValueError(f"{key}: SAM of a flat layer")
            m = sam_direct(S, gamma, ncs)
            r = sam_recursive(S, gamma, ncs)
            bad = ~within(r, m)
            if bad.any():
                notes.append(f"{key}: float32 recursion off the float64 direct sum at {int(np.argmax(bad.ravel()))}")
            out[key] = m
        else:
            if key not in res:
                raise ValueError(f"{key}: not produced by the simulation")
            out[key] = res[key]
    return case, out, notes, info


def compare(name, a, e):
    if a.shape != e.shape:
        return f"{name}: shape {a.shape} vs expected {e.shape}"
    if name.endswith(".spikes"):
        if a.dtype != e.dtype:
            return f"{name}: dtype {a.dtype} vs expected {e.dtype}"
        d = np.flatnonzero(a.ravel() != e.ravel())
        if d.size:
            i = int(d[0])
            return f"{name}: {d.size} spikes differ, first at flat {i} {np.unravel_index(i, e.shape)}: {a.ravel()[i]} vs {e.ravel()[i]}"
        return None
    if e.dtype != np.float32:
        return f"{name}: expected dtype {e.dtype}, not float32"
    ok = within(a, e)
    if not ok.all():
        i = int(np.flatnonzero(~ok.ravel())[0])
        return (f"{name}: {int((~ok).sum())} out of tolerance, first at flat {i} {np.unravel_index(i, e.shape)}: "
                f"{a.ravel()[i]!r} vs {e.ravel()[i]!r}")
    return None


def check(case_dir, out_dir=None):
    case, out, notes, info = run_case(case_dir)
    errs = []
    exact = True
    for name, fn in case["expect"].items():
        e = np.load(os.path.join(case_dir, fn))
        msg = compare(name, out[name], e)
        if msg:
            errs.append(msg)
        elif not name.endswith(".spikes") and not np.array_equal(out[name], e):
            exact = False
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        for name, a in out.items():
            np.save(os.path.join(out_dir, name + ".npy"), a)
    label = os.path.basename(os.path.normpath(case_dir))
    if errs:
        print(f"FAIL {label}: " + "; ".join(errs + notes))
    else:
        print(f"ok   {label}: {len(case['expect'])} arrays match (T={info['T']}, B={info['B']}, "
              f"readout {info['readout']}{', float arrays bit-identical' if exact else ', within tolerance'})"
              + ("; " + "; ".join(notes) if notes else ""))
    return not errs


def main(argv):
    prng_self_test()
    out_dir = None
    if "--out" in argv:
        i = argv.index("--out")
        out_dir = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    dirs = []
    if not argv or argv[0] == "--all":
        root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                          "conformance")
        dirs = [os.path.join(root, d) for d in sorted(os.listdir(root))
                if os.path.exists(os.path.join(root, d, "case.json"))]
    else:
        dirs = argv
    ok = True
    for d in dirs:
        try:
            ok &= check(d, os.path.join(out_dir, os.path.basename(os.path.normpath(d))) if out_dir and len(dirs) > 1
                        else out_dir)
        except Exception as ex:  # noqa: BLE001
            print(f"FAIL {os.path.basename(os.path.normpath(d))}: {type(ex).__name__}: {ex}")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
