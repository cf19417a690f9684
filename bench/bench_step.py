"""(b) End-to-end DINO pretraining throughput and peak memory, and (c) the cost of the EMA update, the per-parameter
gradient clipping and the loss per step, each against the authors' implementation's way of computing it.

(c) components: the reference's style (Python loops over parameters / view pairs, one host sync per parameter for
    clipping) against ours (`torch._foreach_*`, the factored `dino_loss`), with the largest difference printed.
(b) end-to-end: the fastai `Learner` + `DINO` callback against plain PyTorch loops doing the same work (same model, same
    Kornia crops, same loss, AdamW with the reference's two weight-decay groups, per-parameter clipping, EMA, centre):
    'plain_fused' uses our fused pieces, 'plain_reference' the reference's loops. Images/s include the augmentation.

    python bench/bench_step.py --device cpu                                   # small ViT, small crops
    python bench/bench_step.py --device cuda --amp bf16 fp16 --locals 0 2 6 10  # ViT-S/16, 2x224 + n x 96, 64 images
"""
import argparse, math, sys, time, warnings
from functools import partial
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings('ignore')
import torch, torch.nn as nn, torch.nn.functional as F
from common import *
from fastai.basics import Learner, noop, Callback, CancelValidException, Adam, OptimWrapper, DataLoaders
from fastai.data.load import DataLoader as FaDataLoader
from self_supervised.augmentations import get_dino_aug_pipelines, apply_pipelines
from self_supervised.layers import DINOHead, MultiCropWrapper, create_encoder, encoder_dim
from self_supervised.vision.dino import DINO, DINOModel, dino_loss, update_center
from self_supervised.optimizer import ForeachAdam, wd_param_groups, clip_grad_per_param_, update_momentum
from self_supervised.test_utils import dino_loss_loop

# ---------------------------------------------------------------------------------------------------------------
# The reference's way of doing each piece (written from the spec: loops over parameters and over view pairs)
def ref_loss(student_out, teacher_out, center, teacher_temp, student_temp=0.1, n_global=2):
    "Double loop over (teacher global view, student view) pairs, skipping same views: the test utilities' loop, in float32"
    return dino_loss_loop(student_out.float(), teacher_out.float().detach(), center, teacher_temp, student_temp, n_global)

def ref_clip(params, clip):
    "Per-parameter clipping as the reference writes it: a norm per parameter read back to Python (a host sync each)"
    norms = []
    for p in params:
        if p.grad is None: continue
        pn = p.grad.data.norm(2); norms.append(pn.item())
        coef = clip / (pn + 1e-6)
        if coef < 1: p.grad.data.mul_(coef)
    return norms

@torch.no_grad()
def ref_ema(t_params, s_params, m):
    for pk, pq in zip(t_params, s_params): pk.data.mul_(m).add_((1 - m) * pq.detach().data)

# ---------------------------------------------------------------------------------------------------------------
def build(cfg, dev):
    "Student and teacher (ViT + DINO head behind the multi-crop wrapper), the teacher a copy without stochastic depth"
    ekw = dict(cfg.get('encoder_kwargs', {}))
    if cfg['arch'].startswith(('vit_', 'deit_')): ekw['patch_size'] = cfg['patch']
    torch.manual_seed(0)
    s_enc, t_enc = create_encoder(cfg['arch'], drop_path_rate=0.1, **ekw), create_encoder(cfg['arch'], drop_path_rate=0., **ekw)
    dim = encoder_dim(s_enc)
    hk = cfg.get('head_kwargs', {})
    student = nn.Sequential(MultiCropWrapper(s_enc), DINOHead(dim, cfg['out_dim'], **hk))
    teacher = nn.Sequential(MultiCropWrapper(t_enc), DINOHead(dim, cfg['out_dim'], **hk))
    return DINOModel(student, teacher).to(dev)

def augs_for(cfg, dev):
    return [a.to(dev) for a in get_dino_aug_pipelines(num_crops=(2, cfg['n_local']), crop_sizes=cfg['crop_sizes'])]

AMP = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}

class PlainLoop:
    "One DINO step in plain PyTorch; `style` 'fused' uses our pieces, 'reference' the reference's loops"
    def __init__(self, model, augs, cfg, dev, amp, style, lr):
        self.m, self.augs, self.cfg, self.dev, self.style = model, augs, cfg, dev, style
        self.dtype = AMP[amp]
        self.opt = torch.optim.AdamW(wd_param_groups(model.student, 0.04), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        self.scaler = torch.amp.GradScaler(dev.type, enabled=amp == 'fp16')
        self.sp = [p for p in model.student.parameters()]; self.tp = [p for p in model.teacher.parameters()]
        self.timers = None

    def _mark(self, name):
        if self.timers is None: return
        sync(self.dev); t = time.perf_counter(); self.timers[name] = self.timers.get(name, 0.) + t - self._t; self._t = t

    def step(self, x8):
        if self.timers is not None: sync(self.dev); self._t = time.perf_counter()
        m, fused = self.m, self.style == 'fused'
        x = x8.to(self.dev, non_blocking=True); self._mark('data')
        crops = apply_pipelines(self.augs, x); self._mark('augmentation')
        with torch.autocast(self.dev.type, dtype=self.dtype or torch.float32, enabled=self.dtype is not None):
            s = m.student(crops); self._mark('forward student')
            with torch.no_grad(): t = m.teacher(crops[:2])
            self._mark('forward teacher')
            loss = (dino_loss if fused else ref_loss)(s, t, m.center, 0.04)
        self._mark('loss')
        self.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward(); self._mark('backward')
        self.scaler.unscale_(self.opt)
        (clip_grad_per_param_ if fused else ref_clip)(self.sp, 3.0); self._mark('clip')
        self.scaler.step(self.opt); self.scaler.update(); self._mark('optimizer')
        if fused: update_momentum(self.sp, self.tp, 0.996)
        else: ref_ema(self.tp, self.sp, 0.996)
        update_center(m.center, t); self._mark('ema + centre')
        return loss

    def run(self, batches):
        sync(self.dev); t0 = time.perf_counter()
        for x in batches: self.step(x)
        sync(self.dev); return time.perf_counter() - t0

class _NoValid(Callback):
    def before_validate(self): raise CancelValidException()

class _PhaseTimer(Callback):
    "Device-synchronised time between fastai events (DINO is order 11: at order 12 its before_batch has made the crops)"
    order = 12
    def __init__(self): self.timers = None
    def _mark(self, name):
        if self.timers is None: return
        sync(self.learn.dls.device or 'cpu'); t = time.perf_counter()
        if getattr(self, '_t', None) is not None: self.timers[name] = self.timers.get(name, 0.) + t - self._t
        self._t = t
    def before_batch(self): self._mark('data + augmentation (incl. fastai between batches)')
    def after_pred(self): self._mark('forward student + teacher')
    def after_loss(self): self._mark('loss')
    def after_backward(self): self._mark('backward')
    def before_step(self): self._mark('clip')
    def after_step(self): self._mark('optimizer')
    def after_batch(self): self._mark('ema + centre + fastai after_batch')
    def before_train(self): self._t = None

class FastaiRun:
    "fastai `Learner` + our `DINO` callback, fitted for one epoch over the given batches"
    def __init__(self, model, augs, cfg, dev, amp, lr, batches, opt='foreach', nosync=False, compiled=False):
        ds = [(x,) for b in batches for x in b]  # items; the loader re-collates them into the same batches
        bs = len(batches[0])
        dl = FaDataLoader(ds, bs=bs, shuffle=False, drop_last=True, device=dev)
        dls = DataLoaders(dl, FaDataLoader(ds[:bs], bs=bs, device=dev))
        opt_func = (partial(ForeachAdam, mom=0.9, sqr_mom=0.999, eps=1e-8) if opt == 'foreach' else
                    partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8) if opt == 'fastai' else
                    partial(OptimWrapper, opt=partial(torch.optim.AdamW, betas=(0.9, 0.999), eps=1e-8)))
        self.timer = _PhaseTimer()
        cb = DINO(augs, freeze_last_layer=0)
        if nosync: cb.check_finite = noop  # DINO without its per-step host read of the loss
        self.learn = Learner(dls, model, loss_func=noop, opt_func=opt_func, lr=lr, cbs=[cb, _NoValid(), self.timer])
        if amp == 'fp16': self.learn.to_fp16()
        elif amp == 'bf16': self.learn.to_bf16()
        if compiled: self.learn.dino_compile()   # torch.compile in place; the warm-up round pays for compilation
    def run(self, batches=None):
        sync(self.learn.dls.device or 'cpu'); t0 = time.perf_counter()
        with self.learn.no_bar(), self.learn.no_logging(): self.learn.fit(1)
        sync(self.learn.dls.device or 'cpu'); return time.perf_counter() - t0

# ---------------------------------------------------------------------------------------------------------------
def bench_components(cfg, dev, reps, rows, amp):
    "(c): EMA, clipping and loss (forward + backward) per step, reference style vs ours, on the model's real shapes"
    model = build(cfg, dev)
    sp, tp = [p for p in model.student.parameters()], [p for p in model.teacher.parameters()]
    n_params = sum(p.numel() for p in sp)
    g = torch.Generator(device=dev).manual_seed(0)
    base = dict(model=cfg['name'], params_M=round(n_params / 1e6, 1), device=str(dev))
    # EMA: the same start, one update each, compared
    for p in sp: p.data.add_(torch.randn(p.shape, device=dev, generator=g) * 1e-3)
    t_ref, t_our = [p.detach().clone() for p in tp], [p.detach().clone() for p in tp]
    ref_ema(t_ref, sp, 0.996); update_momentum(sp, t_our, 0.996)
    diff = max((a - b).abs().max().item() for a, b in zip(t_ref, t_our))
    t = side_by_side({'ref': lambda: ref_ema(t_ref, sp, 0.996), 'ours': lambda: update_momentum(sp, t_our, 0.996)},
                     dev, reps=reps)
    r, rr = ratio_stats(t['ref'], t['ours'])
    rows.append(dict(**base, piece='teacher EMA', ref_ms=round(1e3 * med(t['ref']), 3), ours_ms=round(1e3 * med(t['ours']), 3),
                     speedup=r, speedup_range=rr, max_abs_diff=diff, equal=diff < 1e-6))  # last-bit rounding of (1-m)*s
    # clipping: gradients with norms on both sides of the limit
    grads = [torch.randn(p.shape, device=dev, generator=g) * (10. if i % 2 else 0.001) for i, p in enumerate(sp)]
    def set_grads():
        for p, gr in zip(sp, grads): p.grad = gr.clone()
    set_grads(); ref_clip(sp, 3.0); g_ref = [p.grad.clone() for p in sp]
    set_grads(); clip_grad_per_param_(sp, 3.0); diff = max((a - p.grad).abs().max().item() for a, p in zip(g_ref, sp))
    t = side_by_side({'ref': lambda: ref_clip(sp, 3.0), 'ours': lambda: clip_grad_per_param_(sp, 3.0)}, dev, reps=reps)
    r, rr = ratio_stats(t['ref'], t['ours'])
    rows.append(dict(**base, piece='per-parameter clipping', ref_ms=round(1e3 * med(t['ref']), 3),
                     ours_ms=round(1e3 * med(t['ours']), 3), speedup=r, speedup_range=rr, max_abs_diff=diff, equal=diff == 0.))
    del grads, t_ref, t_our
    for p in sp: p.grad = None
    # loss forward + backward on (n_crops * B, K) student and (2B, K) teacher outputs
    bs, K, nc = cfg['batch'], cfg['out_dim'], 2 + cfg['n_local']
    dt = AMP[amp] or torch.float32
    s = (torch.randn(nc * bs, K, device=dev, generator=g) * 3).to(dt).requires_grad_()
    tt = (torch.randn(2 * bs, K, device=dev, generator=g) * 3).to(dt); c = torch.randn(1, K, device=dev, generator=g)
    def fb(f):
        s.grad = None; l = f(s, tt, c, 0.04); l.backward(); return l
    l_ref = fb(ref_loss).detach(); g_ref = s.grad.clone(); l_our = fb(dino_loss).detach()
    diff = max((l_ref - l_our).abs().item(), (g_ref - s.grad).abs().max().item())
    rel = (l_ref - l_our).abs().item() / l_ref.abs().item()
    t = side_by_side({'ref': lambda: fb(ref_loss), 'ours': lambda: fb(dino_loss)}, dev, reps=reps)
    r, rr = ratio_stats(t['ref'], t['ours'])
    rows.append(dict(**base, piece=f'loss fwd+bwd ({nc} crops x {bs}, K={K}, {dt})'.replace('torch.', ''),
                     ref_ms=round(1e3 * med(t['ref']), 3), ours_ms=round(1e3 * med(t['ours']), 3), speedup=r,
                     speedup_range=rr, max_abs_diff=diff, loss_rel_diff=rel, equal=rel < 1e-5))
    del model, s, tt

def count_flops(loop, batch):
    "FLOPs of one training step (student forward + backward, teacher forward, loss), counted by torch's FlopCounterMode"
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: loop.step(batch)
    return fc.get_total_flops()

def bench_e2e(cfg, dev, amp, variants, reps, steps, rows, peak_flops):
    bs = cfg['batch']
    x8 = pil_to_uint8(sample_images(bs * steps, cfg['img_size']))
    if dev.type == 'cuda': x8 = x8.pin_memory()
    batches = list(x8.split(bs))
    lr = 0.0005 * bs / 256
    cfg_row = dict(model=cfg['name'], crops=f"2x{cfg['crop_sizes'][0]}+{cfg['n_local']}x{cfg['crop_sizes'][1]}",
                   batch=bs, K=cfg['out_dim'], amp=amp, device=str(dev))
    def make(v):
        model, augs = build(cfg, dev), augs_for(cfg, dev)
        if v.startswith('plain'): return PlainLoop(model, augs, cfg, dev, amp, v.split('_')[1], lr)
        opt = 'torch' if 'torchadamw' in v else 'fastai' if 'fastaiadam' in v else 'foreach'  # dino_learner's: ForeachAdam
        return FastaiRun(model, augs, cfg, dev, amp, lr, batches, opt=opt,
                         nosync='nosync' in v, compiled='compiled' in v)
    # peak memory, one variant alive at a time (the paper's figures are per process)
    peak, flops = {}, None
    for v in variants:
        if dev.type != 'cuda': break
        gc_collect(dev); reset_peak(dev)
        r = make(v); r.run(batches[:2] if v.startswith('plain') else None); peak[v] = peak_gb(dev)
        if v == 'plain_fused' and flops is None: flops = count_flops(r, batches[0])
        del r; gc_collect(dev)
    if flops is None:
        r = make('plain_fused'); flops = count_flops(r, batches[0]); del r
    # throughput: all variants alive, interleaved rounds, the first round is warm-up (compilation, cudnn choices, caches)
    runs = {v: make(v) for v in variants}
    fns = {v: (lambda r=r: r.run(batches)) for v, r in runs.items()}
    secs = {v: [] for v in variants}
    for k in range(reps + 1):
        for v in (variants if k % 2 == 0 else variants[::-1]):
            s = fns[v]()
            if k: secs[v].append(s)
    # where the time goes: one more round with device-synchronised timers around each phase
    phases = {}
    for v, r in runs.items():
        tm = {}
        if isinstance(r, PlainLoop): r.timers = tm; r.run(batches); r.timers = None
        elif v == 'fastai': r.timer.timers = tm; r.run(); r.timer.timers = None
        if tm: phases[v] = {k: round(1e3 * x / steps, 2) for k, x in tm.items()}
    base = variants[0]
    for v in variants:
        ips = bs * steps / med(secs[v])
        r, rr = ratio_stats(secs[base], secs[v])
        row = dict(**cfg_row, variant=v, img_per_s=round(ips, 1), ms_per_step=round(1e3 * med(secs[v]) / steps, 1),
                   noise=round(spread(secs[v]), 3), speed_vs_first=r, speed_range=rr, peak_mem_GB=peak.get(v),
                   step_TFLOP=round(flops / 1e12, 4), achieved_TFLOPs=round(flops * ips / bs / 1e12, 3))
        if peak_flops: row['MFU'] = round(flops * ips / bs / peak_flops, 4)
        if v in phases: row['phases_ms'] = phases[v]
        rows.append(row)
    del runs; gc_collect(dev)

def gc_collect(dev):
    import gc; gc.collect()
    if dev.type == 'cuda': torch.cuda.empty_cache()

def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter), 3)
    p.add_argument('--amp', nargs='+', default=None, help='fp32 / fp16 / bf16 (default: bf16 fp16 on a GPU, fp32 on a CPU)')
    p.add_argument('--locals', type=int, nargs='+', default=None, help='numbers of local crops')
    p.add_argument('--batch', type=int, default=None, help='images per step (default 64 on a GPU, 16 on a CPU)')
    p.add_argument('--steps', type=int, default=None, help='steps per timed round (default 6 GPU, 3 CPU)')
    p.add_argument('--variants', nargs='+', default=None,
                   help='fastai (ForeachAdam, as dino_learner), fastai_fastaiadam (fastai\'s per-parameter Adam), fastai_torchadamw, fastai_nosync, fastai_compiled, plain_fused, plain_reference (first = baseline of the ratio)')
    p.add_argument('--skip', nargs='*', default=[], choices=['components', 'e2e'])
    p.add_argument('--peak-tflops', type=float, default=None, help='device peak bf16 FLOP/s in TFLOP/s for MFU (H100/H200: 989)')
    args = p.parse_args()
    info = setup(args)
    dev = torch.device(args.device); cuda = dev.type == 'cuda'
    if cuda:
        cfg = dict(name='ViT-S/16', arch='vit_small', patch=16, out_dim=65536, crop_sizes=(224, 96), img_size=256)
        peak = (args.peak_tflops or 989) * 1e12
    else:  # a small ViT at small crops keeps a CPU step to about a second
        cfg = dict(name='ViT-tiny/8, 4 blocks, K=4096', arch='vit_tiny', patch=8, out_dim=4096, crop_sizes=(64, 32),
                   img_size=96, encoder_kwargs=dict(depth=4), head_kwargs=dict(hidden_dim=512, bottleneck_dim=128))
        peak = args.peak_tflops * 1e12 if args.peak_tflops else None
    bs = args.batch or (64 if cuda else 16)
    amps = args.amp or (['bf16', 'fp16'] if cuda else ['fp32'])
    locs = args.locals or ([0, 2, 6, 10] if cuda else [6])
    steps = args.steps or (6 if cuda else 3)
    variants = args.variants or (['fastai', 'fastai_fastaiadam', 'fastai_torchadamw', 'fastai_nosync', 'fastai_compiled', 'plain_fused', 'plain_reference'] if cuda
                                 else ['fastai', 'plain_fused', 'plain_reference'])
    comp_rows, e2e_rows = [], []
    if 'components' not in args.skip:
        for c in ([dict(name='ViT-S/16 + head K=65536', arch='vit_small', patch=16, out_dim=65536, batch=bs if cuda else 16,
                        n_local=10 if cuda else 6)] + ([] if cuda else [dict(cfg, batch=bs, n_local=6)])):
            bench_components(c, dev, args.reps * 2 + 1, comp_rows, amps[0] if cuda else 'fp32')
            print_table(comp_rows); print(uptime_line())
        save('step_components', comp_rows, info, args, args.out)
    if 'e2e' not in args.skip:
        for amp in amps:
            for n_local in locs:
                bench_e2e(dict(cfg, batch=bs, n_local=n_local), dev, amp, variants, args.reps, steps, e2e_rows, peak)
                print_table([{k: v for k, v in r.items() if k != 'phases_ms'} for r in e2e_rows[-len(variants):]])
                for r in e2e_rows[-len(variants):]:
                    if 'phases_ms' in r: print(f"  {r['variant']}: ms per step by phase {r['phases_ms']}")
                print(uptime_line())
        save('step_e2e', e2e_rows, info, args, args.out)

if __name__ == '__main__': main()
