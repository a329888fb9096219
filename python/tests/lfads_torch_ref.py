"""A minimal torch re-implementation of lfads-torch's LFADS forward pass (posterior means, no dropout), with the
same module tree, hence the same state_dict keys and shapes, as lfads_torch.model.LFADS with an Identity read-in
and one FanInLinear read-out. Used to check `neurodyn export --format lfads-torch`: load the exported HDF5 with
load_state_dict(strict=True) and compare the rates with neurodyn's posterior-mean rates.
Usage as a module: build(weights_h5) -> (model, attrs); model(x [trials, bins, neurons]) -> log-rates."""
import h5py
import torch
from torch import nn


class ClippedGRUCell(nn.GRUCell):
    """GRU with gate order z, r, n; candidate n = tanh(W_n x + b_n + U_n (r * h) + bh_n); clipped state."""

    def __init__(self, input_size, hidden_size, clip):
        super().__init__(input_size, hidden_size, bias=True)
        self.clip = clip

    def forward(self, x, h):
        H = self.hidden_size
        xi = x @ self.weight_ih.T + self.bias_ih
        hzr = h @ self.weight_hh[:2 * H].T + self.bias_hh[:2 * H]
        z = torch.sigmoid(xi[:, :H] + hzr[:, :H])
        r = torch.sigmoid(xi[:, H:2 * H] + hzr[:, H:])
        n = torch.tanh(xi[:, 2 * H:] + (r * h) @ self.weight_hh[2 * H:].T + self.bias_hh[2 * H:])
        return torch.clamp(z * h + (1 - z) * n, -self.clip, self.clip)


class GRU(nn.Module):
    def __init__(self, i, h, clip):
        super().__init__()
        self.cell = ClippedGRUCell(i, h, clip)

    def forward(self, x, h):  # x [B, T, I] -> states [B, T, H]
        out = []
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
            out.append(h)
        return torch.stack(out, 1), h


class BiGRU(nn.Module):
    def __init__(self, i, h, clip):
        super().__init__()
        self.fwd_gru = GRU(i, h, clip)
        self.bwd_gru = GRU(i, h, clip)

    def forward(self, x, h0):
        of, hf = self.fwd_gru(x, h0[0])
        ob, hb = self.bwd_gru(torch.flip(x, [1]), h0[1])
        return torch.cat([of, torch.flip(ob, [1])], 2), (hf, hb)


class NormLinear(nn.Linear):
    def forward(self, x):
        return nn.functional.linear(x, nn.functional.normalize(self.weight, dim=1))


class Encoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.ic_enc_h0 = nn.Parameter(torch.zeros(2, 1, a['ic_enc_dim']))
        self.ic_enc = BiGRU(a['encod_data_dim'], a['ic_enc_dim'], a['cell_clip'])
        self.ic_linear = nn.Linear(2 * a['ic_enc_dim'], 2 * a['ic_dim'])
        if a['co_dim'] > 0:
            self.ci_enc_h0 = nn.Parameter(torch.zeros(2, 1, a['ci_enc_dim']))
            self.ci_enc = BiGRU(a['encod_data_dim'], a['ci_enc_dim'], a['cell_clip'])

    def forward(self, x):
        a, B = self.a, x.shape[0]
        _, (hf, hb) = self.ic_enc(x, self.ic_enc_h0.expand(2, B, -1))
        ic_mean = self.ic_linear(torch.cat([hf, hb], 1))[:, :a['ic_dim']]
        Tr, T = a['recon_seq_len'], a['encod_seq_len']
        if a['co_dim'] == 0:
            return ic_mean, torch.zeros(B, Tr, 0)
        ci, _ = self.ci_enc(x, self.ci_enc_h0.expand(2, B, -1))
        H, lag = a['ci_enc_dim'], a['ci_lag']
        fwd = torch.zeros(B, Tr, H)
        bwd = torch.zeros(B, Tr, H)
        fwd[:, lag:T] = ci[:, :T - lag, :H]       # the forward state lag bins earlier
        bwd[:, :T - lag] = ci[:, lag:, H:]        # the backward state lag bins later
        return ic_mean, torch.cat([fwd, bwd], 2)


class Cell(nn.Module):
    def __init__(self, a):
        super().__init__()
        clip = a['cell_clip']
        self.gen_cell = ClippedGRUCell(a['co_dim'] + a['ext_input_dim'], a['gen_dim'], clip)
        self.fac_linear = NormLinear(a['gen_dim'], a['fac_dim'], bias=False)
        if a['co_dim'] > 0:
            self.con_cell = ClippedGRUCell(2 * a['ci_enc_dim'] + a['fac_dim'], a['con_dim'], clip)
            self.co_linear = nn.Linear(a['con_dim'], 2 * a['co_dim'])


class RNN(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.cell = Cell(a)


class Decoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.a = a
        self.ic_to_g0 = nn.Linear(a['ic_dim'], a['gen_dim'])
        self.rnn = RNN(a)
        if a['co_dim'] > 0:
            self.con_h0 = nn.Parameter(torch.zeros(1, a['con_dim']))

    def forward(self, ic_mean, ci):
        a, cell, B = self.a, self.rnn.cell, ic_mean.shape[0]
        g = self.ic_to_g0(ic_mean)
        f = cell.fac_linear(g)
        c = self.con_h0.expand(B, -1) if a['co_dim'] > 0 else None
        factors = []
        for t in range(ci.shape[1]):
            if a['co_dim'] > 0:
                c = cell.con_cell(torch.cat([ci[:, t], f], 1), c)
                u = cell.co_linear(c)[:, :a['co_dim']]     # posterior mean of the inferred input
            else:
                u = torch.zeros(B, 0)
            g = cell.gen_cell(u, g)
            f = cell.fac_linear(g)
            factors.append(f)
        return torch.stack(factors, 1)


class LFADS(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.readin = nn.ModuleList([nn.Identity()])
        self.encoder = Encoder(a)
        self.decoder = Decoder(a)
        n_out = a['readout_out']
        self.readout = nn.ModuleList([nn.Linear(a['fac_dim'], n_out)])
        self.ic_prior = nn.Module()
        self.ic_prior.mean = nn.Parameter(torch.zeros(a['ic_dim']))
        self.ic_prior.logvar = nn.Parameter(torch.zeros(a['ic_dim']), requires_grad=False)
        if a['co_dim'] > 0:
            self.co_prior = nn.Module()
            self.co_prior.logtaus = nn.Parameter(torch.zeros(a['co_dim']))
            self.co_prior.lognvars = nn.Parameter(torch.zeros(a['co_dim']))

    def forward(self, x):
        ic_mean, ci = self.encoder(self.readin[0](x))
        return self.readout[0](self.decoder(ic_mean, ci))  # log-rates (Poisson)


def build(path):
    with h5py.File(path, 'r') as f:
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        a = {k: (float(v) if k in ('cell_clip', 'ic_post_var_min') else v if isinstance(v, str) else int(v))
             for k, v in a.items()}
        sd = {k: torch.from_numpy(f[k][()]) for k in f.keys()}
    a['readout_out'] = sd['readout.0.weight'].shape[0]
    model = LFADS(a)
    model.load_state_dict(sd, strict=True)
    return model.eval(), a
