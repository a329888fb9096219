#!/usr/bin/python3
"""PyTorch comparator for `make bench`: the same LFADS model and loss as neurodyn (docs/model.md,
src/models/lfads.c), written the way a PyTorch user would write it (eager mode, clipped GRU cells in a
Python time loop, input projections of whole sequences hoisted into one matmul, autograd, torch.optim.Adam).

  torch_lfads.py check DIR          loss and gradient on the fixture bench/export_fixture wrote to DIR
  torch_lfads.py train DATA T N n THREADS BATCHES
                                    time training batches (forward + backward + Adam) on DATA
                                    (uint8 counts [n][T][N], written by bench_train data)
  torch_lfads.py infer DATA T N n THREADS SAMPLES
                                    posterior sample-and-average throughput on the first n trials

Run with Debian's /usr/bin/python3 (python3-torch). Prints one `RESULT key=value ...` line per measurement.
"""
import math
import os
import resource
import sys
import time

import numpy as np
import torch

CFG = dict(gen_dim=100, con_dim=80, co_dim=4, ic_enc_dim=100, ci_enc_dim=80, ci_lag=1, ic_dim=100, fac_dim=40,
           cell_clip=5.0, ic_post_var_min=1e-4, ic_prior_var=0.1, l2_gen_scale=2000.0, l2_con_scale=0.0,
           kl_ic_scale=1.0, kl_co_scale=1.0, cd_rate=0.3, dropout_rate=0.05, batch_size=128, lr=0.004)


def gru_shapes(name, I, H):
    return [(name + ".Wx", (I, 3 * H)), (name + ".bx", (3 * H,)), (name + ".Uzr", (H, 2 * H)),
            (name + ".Un", (H, H))]


def param_shapes(c, N):
    Hic, Hci, C, K, G, F, icd = (c["ic_enc_dim"], c["ci_enc_dim"], c["con_dim"], c["co_dim"], c["gen_dim"],
                                 c["fac_dim"], c["ic_dim"])
    s = gru_shapes("ic_f", N, Hic) + gru_shapes("ic_b", N, Hic)
    s += [("ic_h0_f", (Hic,)), ("ic_h0_b", (Hic,)), ("ic_W", (2 * Hic, 2 * icd)), ("ic_bias", (2 * icd,)),
          ("ic_prior_mean", (icd,)), ("g0_W", (icd, G)), ("g0_bias", (G,))]
    s += gru_shapes("ci_f", N, Hci) + gru_shapes("ci_b", N, Hci)
    s += [("ci_h0_f", (Hci,)), ("ci_h0_b", (Hci,))]
    s += gru_shapes("con", 2 * Hci + F, C)
    s += [("con_h0", (C,)), ("co_W", (C, 2 * K)), ("co_bias", (2 * K,)), ("ar_logtau", (K,)), ("ar_lognvar", (K,))]
    s += gru_shapes("gen", K, G)
    s += [("fac_W", (F, G)), ("ro_W", (F, N)), ("ro_bias", (N,))]
    return s


class LFADS(torch.nn.Module):
    def __init__(self, c, N, dtype=torch.float32, seed=0):
        super().__init__()
        self.c, self.N = c, N
        g = torch.Generator().manual_seed(seed)
        self.names = []
        for name, shape in param_shapes(c, N):
            fan = shape[0] if len(shape) == 2 else 1
            w = torch.randn(shape, generator=g, dtype=dtype) / math.sqrt(fan) if len(shape) == 2 else \
                torch.zeros(shape, dtype=dtype)
            if name.endswith(".bx"):
                w[: 2 * shape[0] // 3] = 1.0
            if name == "ar_logtau":
                w.fill_(math.log(10.0))
            if name == "ar_lognvar":
                w.fill_(math.log(0.1))
            self.register_parameter(name.replace(".", "_"), torch.nn.Parameter(w))
            self.names.append(name)

    def p(self, name):
        return getattr(self, name.replace(".", "_"))

    # ---- clipped GRU (candidate n = tanh(x_n + (r*h) Un)), as in docs/model.md ----
    def cell(self, xp, h, name):
        H = h.shape[1]
        zr = torch.sigmoid(torch.addmm(xp[:, : 2 * H], h, self.p(name + ".Uzr")))
        z, r = zr[:, :H], zr[:, H:]
        n = torch.tanh(torch.addmm(xp[:, 2 * H:], r * h, self.p(name + ".Un")))
        clip = self.c["cell_clip"]
        return torch.clamp(z * h + (1 - z) * n, -clip, clip)

    def seq(self, X, h0, name, reverse):
        T, B, _ = X.shape
        XP = torch.addmm(self.p(name + ".bx"), X.reshape(T * B, -1), self.p(name + ".Wx")).view(T, B, -1)
        h = h0.expand(B, -1)
        out = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            h = self.cell(XP[t], h, name)
            out[t] = h
        return torch.stack(out)

    def forward(self, X, sample, dropout, ramp_kl=1.0, ramp_l2=1.0):
        """X [T][B][N]. Returns (objective, dict of loss terms per trial, log-rates [T][B][N])."""
        c, p = self.c, self.p
        T, B, N = X.shape
        Hci, C, K, icd = c["ci_enc_dim"], c["con_dim"], c["co_dim"], c["ic_dim"]
        lag, pd, cd = c["ci_lag"], c["dropout_rate"], c["cd_rate"]
        gmask = None
        if dropout:
            cd_drop = torch.rand(X.shape, dtype=X.dtype) < cd
            keep = (torch.rand(X.shape, dtype=X.dtype) >= pd).to(X.dtype) / (1 - pd)
            Xenc = X * keep * (~cd_drop).to(X.dtype) / (1 - cd)
            gmask = cd_drop.to(X.dtype)
        else:
            Xenc = X
        drop = (lambda a: torch.nn.functional.dropout(a, pd, True)) if dropout else (lambda a: a)
        # initial condition
        icf = self.seq(Xenc, p("ic_h0_f"), "ic_f", False)
        icb = self.seq(Xenc, p("ic_h0_b"), "ic_b", True)
        icp = torch.addmm(p("ic_bias"), drop(torch.cat([icf[T - 1], icb[0]], 1)), p("ic_W"))
        ic_mu, ic_lv = icp[:, :icd], icp[:, icd:]
        ic_var = torch.exp(ic_lv) + c["ic_post_var_min"]
        z0 = ic_mu + torch.sqrt(ic_var) * torch.randn_like(ic_mu) if sample else ic_mu
        g = torch.addmm(p("g0_bias"), z0, p("g0_W"))
        fw = p("fac_W")
        Wn_t = (fw / fw.norm(dim=1, keepdim=True).clamp_min(1e-12)).t()
        f = drop(g) @ Wn_t
        # controller inputs [fwd(t - lag), bwd(t + lag)]
        cif = self.seq(Xenc, p("ci_h0_f"), "ci_f", False)
        cib = self.seq(Xenc, p("ci_h0_b"), "ci_b", True)
        if lag > 0:
            z = torch.zeros(lag, B, Hci, dtype=X.dtype)
            cif = torch.cat([z, cif[: T - lag]])
            cib = torch.cat([cib[lag:], z])
        CI = drop(torch.cat([cif, cib], 2)).reshape(T * B, 2 * Hci)
        conWx = p("con.Wx")
        CXP = torch.addmm(p("con.bx"), CI, conWx[: 2 * Hci]).view(T, B, 3 * C)
        Wx_f = conWx[2 * Hci:]
        cst = p("con_h0").expand(B, -1)
        eps = torch.randn(T, B, K, dtype=X.dtype) if sample else None
        fs, umus, ulvs, us = [], [], [], []
        for t in range(T):
            cst = self.cell(torch.addmm(CXP[t], drop(f), Wx_f), cst, "con")
            co = torch.addmm(p("co_bias"), cst, p("co_W"))
            umu, ulv = co[:, :K], co[:, K:]
            u = umu + torch.exp(0.5 * ulv) * eps[t] if sample else umu
            g = self.cell(torch.addmm(p("gen.bx"), u, p("gen.Wx")), g, "gen")
            f = drop(g) @ Wn_t
            fs.append(f); umus.append(umu); ulvs.append(ulv); us.append(u)
        Fs = torch.stack(fs)
        LR = torch.addmm(p("ro_bias"), Fs.reshape(T * B, -1), p("ro_W")).view(T, B, N)
        # losses, summed per trial and averaged over trials
        nll = torch.exp(LR) - X * LR + torch.lgamma(X + 1)
        recon = nll.sum() / B
        recon_grad = (nll * gmask).sum() / B if gmask is not None else recon
        pv = c["ic_prior_var"]
        dm = ic_mu - p("ic_prior_mean")
        kl_ic = 0.5 * (math.log(pv) - torch.log(ic_var) + (ic_var + dm * dm) / pv - 1).sum() / B
        U, UMU, ULV = torch.stack(us), torch.stack(umus), torch.stack(ulvs)
        alpha = torch.exp(-torch.exp(-p("ar_logtau")))
        lnv = p("ar_lognvar")
        lpv0 = lnv - torch.log1p(-alpha * alpha)
        lq = -0.5 * (ULV + (U - UMU) ** 2 * torch.exp(-ULV))
        lp0 = -0.5 * (lpv0 + U[0] ** 2 * torch.exp(-lpv0))
        lpt = -0.5 * (lnv + (U[1:] - alpha * U[:-1]) ** 2 * torch.exp(-lnv))
        kl_co = (lq.sum() - lp0.sum() - lpt.sum()) / B

        def l2(name, scale):
            U1, U2 = p(name + ".Uzr"), p(name + ".Un")
            return 0.5 * scale * ((U1 * U1).sum() + (U2 * U2).sum()) / (U1.numel() + U2.numel())

        l2t = l2("gen", c["l2_gen_scale"]) + l2("con", c["l2_con_scale"])
        reg = ramp_kl * (c["kl_ic_scale"] * kl_ic + c["kl_co_scale"] * kl_co) + ramp_l2 * l2t
        terms = dict(recon=recon, kl_ic=kl_ic, kl_co=kl_co, l2=l2t, total=recon + reg)
        return recon_grad + reg, terms, LR


def read_manifest(d):
    m, views = {}, {}
    for line in open(os.path.join(d, "manifest.txt")):
        k = line.split()
        if k[0] == "view":
            views[k[1]] = (int(k[2]), int(k[3]))
        else:
            m[k[0]] = float(k[1])
    return m, views


def check(d):
    """Same loss and gradient as neurodyn on the fixture in d (dropout and sampling off)."""
    m, views = read_manifest(d)
    T, N, B = int(m["T"]), int(m["N"]), int(m["B"])
    c = dict(CFG)
    for k in ("gen_dim", "con_dim", "co_dim", "ic_enc_dim", "ci_enc_dim", "ci_lag", "ic_dim", "fac_dim"):
        c[k] = int(m[k])
    for k in ("cell_clip", "ic_post_var_min", "ic_prior_var", "l2_gen_scale", "l2_con_scale", "kl_ic_scale",
              "kl_co_scale"):
        c[k] = m[k]
    flat = np.fromfile(os.path.join(d, "params.f64"), dtype="<f8")
    gref = np.fromfile(os.path.join(d, "grad.f64"), dtype="<f8")
    X = np.fromfile(os.path.join(d, "x.f64"), dtype="<f8").reshape(T, B, N)
    worst = {}
    for dtype in (torch.float64, torch.float32):
        model = LFADS(c, N, dtype)
        with torch.no_grad():
            for name in model.names:
                off, n = views[name]
                prm = model.p(name)
                assert prm.numel() == n, (name, prm.shape, n)
                prm.copy_(torch.from_numpy(flat[off:off + n].reshape(prm.shape)))
        obj, terms, _ = model(torch.from_numpy(X).to(dtype), sample=False, dropout=False)
        obj.backward()
        tag = str(dtype).replace("torch.", "")
        rel = {k: abs(float(v) - m["loss_" + k]) / max(abs(m["loss_" + k]), 1e-30) for k, v in terms.items()}
        gerr = 0.0
        for name in model.names:
            off, n = views[name]
            ga = model.p(name).grad.detach().double().numpy().ravel()
            gb = gref[off:off + n]
            gerr = max(gerr, float(np.max(np.abs(ga - gb)) / max(1.0, float(np.max(np.abs(gb))))))
        print("torch %-7s total %.10g (neurodyn %.10g, %d-byte reals): relative difference total %.2e recon %.2e "
              "kl_ic %.2e kl_co %.2e l2 %.2e; gradient max|diff|/max(1,max|g|) %.2e"
              % (tag, float(terms["total"]), m["loss_total"], int(m["real_bytes"]), rel["total"], rel["recon"],
                 rel["kl_ic"], rel["kl_co"], rel["l2"], gerr))
        worst[tag] = (max(rel.values()), gerr)
    print("RESULT kind=check real_bytes=%d rel_f64=%.3e rel_f32=%.3e grad_f64=%.3e grad_f32=%.3e"
          % (int(m["real_bytes"]), worst["float64"][0], worst["float32"][0], worst["float64"][1],
             worst["float32"][1]))


def load_data(path, T, N, n):
    a = np.fromfile(path, dtype=np.uint8, count=n * T * N)  # the first n trials
    assert a.size == n * T * N, (path, a.size, n * T * N)
    return torch.from_numpy(a.reshape(n, T, N))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train(path, T, N, n, threads, batches):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = load_data(path, T, N, n)
    model = LFADS(CFG, N)
    opt = torch.optim.Adam(model.parameters(), lr=CFG["lr"], eps=1e-8)
    B = CFG["batch_size"]
    perm = torch.randperm(n)
    nb = (n + B - 1) // B

    def step(k):
        idx = perm[(k % nb) * B: (k % nb) * B + B]
        X = data[idx].permute(1, 0, 2).float().contiguous()
        opt.zero_grad(set_to_none=True)
        obj, _, _ = model(X, sample=True, dropout=True)
        obj.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 200.0)
        opt.step()

    step(0)  # warm up
    times = []
    for k in range(batches):
        t0 = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - t0)
    ms = 1e3 * float(np.median(times))
    print("RESULT kind=train impl=torch T=%d N=%d B=%d threads=%d ms_per_step=%.2f epoch_s=%.3f rss_mb=%.0f"
          % (T, N, B, threads, ms, ms * nb / 1e3, peak_rss_mb()))


def infer(path, T, N, n, threads, samples, budget_s=90.0):
    """Posterior sample-and-average of the rates over `samples` passes. When the passes would take longer
    than budget_s, the throughput is extrapolated from the passes done (reported as passes=k/samples)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = load_data(path, T, N, n)
    model = LFADS(CFG, N)
    B = CFG["batch_size"]
    rates = torch.zeros(n, T, N)
    done = total = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for s0 in range(0, n, B):
            X = data[s0:s0 + B].permute(1, 0, 2).float().contiguous()
            acc = torch.zeros_like(X)
            for _ in range(samples):
                total += 1
                if time.perf_counter() - t0 > budget_s:
                    continue
                _, _, LR = model(X, sample=True, dropout=False)
                acc += torch.exp(LR)
                done += 1
            rates[s0:s0 + B] = (acc / samples).permute(1, 0, 2)
    dt = time.perf_counter() - t0
    print("RESULT kind=infer impl=torch T=%d N=%d n=%d threads=%d samples=%d trials_per_s=%.2f passes=%d/%d rss_mb=%.0f"
          % (T, N, n, threads, samples, n * done / total / dt, done, total, peak_rss_mb()))


if __name__ == "__main__":
    torch.set_num_interop_threads(1)
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "check":
        torch.set_num_threads(1)
        check(a[1])
    elif len(a) == 7 and a[0] == "train":
        train(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]))
    elif len(a) == 7 and a[0] == "infer":
        infer(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]))
    else:
        sys.exit(__doc__)
