"""(e) The host's work per DINO step: how many operations each phase issues, and how long the host takes to issue them.

On a GPU the host (Python, PyTorch's dispatcher, the kernel launches) has to queue a step's work faster than the GPU
runs it, or the GPU waits. This measures that work without a GPU: the step of the paper's configuration (ViT-S/16's 12
blocks and 157 parameter tensors, 64 images, 2 global + 6 local crops, DINO head) on tensors so small that computing
them costs next to nothing (width 48 instead of 384, 48 px images, 32/16 px crops), so the time left is the host's. Each
row counts the aten operations the phase dispatches (a machine-independent number: on a GPU nearly each is one kernel
launch; a `_foreach_*` op launches a few kernels for a whole list of tensors) and times it, with variants side by side:

- augmentation: our pipelines called once per crop with `RandomResizedCropPIL(batched=False)` (one antialiased
  `F.interpolate` per crop, the CPU path), against `apply_pipelines` (the local crops in one call) with `batched=True`
  (`resized_crops`: one gather and two resampling matmuls for all crops, the path a GPU takes);
- optimizer: fastai's `Adam` (a Python loop over parameters), `ForeachAdam` (the same numbers with `_foreach` ops,
  what `dino_learner` uses) and `torch.optim.AdamW` with `foreach=True`;
- clipping and EMA: ours (`torch._foreach_*`) against the reference's loops;
- forward + backward of student and teacher with the loss (no variant: timm's model).

    python bench/bench_host.py --reps 5
"""
import argparse, sys, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings('ignore')
import torch, torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from common import *
from bench_step import ref_clip, ref_ema
from fastai.optimizer import Adam
from self_supervised.optimizer import ForeachAdam, wd_param_groups, clip_grad_per_param_, update_momentum
from self_supervised.augmentations import get_dino_aug_pipelines, apply_pipelines
from self_supervised.layers import DINOHead, MultiCropWrapper
from self_supervised.models.vision_transformer import vit_small
from self_supervised.vision.dino import DINOModel, dino_loss

class CountOps(TorchDispatchMode):
    "Number of aten operations dispatched under it"
    def __init__(self): super().__init__(); self.n = 0
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.n += 1
        return func(*args, **(kwargs or {}))

def n_ops(fn):
    with CountOps() as c: fn()
    return c.n

def tiny_vit_s(n_local, batch, width=48):
    "ViT-S/16's structure (12 blocks, 6 heads, 157 parameter tensors in the student) at a width that costs nothing"
    def enc(dpr): return MultiCropWrapper(vit_small(embed_dim=width, num_heads=6, drop_path_rate=dpr, img_size=32))
    def head(): return DINOHead(width, 64, hidden_dim=32, bottleneck_dim=16)
    torch.manual_seed(0)
    model = DINOModel(nn.Sequential(enc(0.1), head()), nn.Sequential(enc(0.), head()))
    # one pipeline object per local crop, called one by one, against the grouped list apply_pipelines calls once
    sep = (get_dino_aug_pipelines(num_crops=(2, 0), crop_sizes=(32, 16))
           + [get_dino_aug_pipelines(num_crops=(2, 1), crop_sizes=(32, 16))[2] for _ in range(n_local)])
    grouped = get_dino_aug_pipelines(num_crops=(2, n_local), crop_sizes=(32, 16))
    # one interpolate per crop (the CPU path) against one batched gather and matmuls (what a GPU runs)
    for p in sep: p.crop.batched = False
    for p in grouped: p.crop.batched = True
    return model, sep, grouped, torch.rand(batch, 3, 48, 48)

def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter), 5)
    p.add_argument('--locals', type=int, default=6)
    p.add_argument('--batch', type=int, default=64)
    args = p.parse_args(); args.device = 'cpu'
    info = setup(args)
    model, sep, grouped, x = tiny_vit_s(args.locals, args.batch)
    crops = apply_pipelines(grouped, x)
    sp = [q for q in model.student.parameters() if q.requires_grad]; tp = list(model.teacher.parameters())
    for q in sp: q.grad = torch.randn_like(q)
    fa = Adam(sp, lr=1e-3, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.04)
    fe = ForeachAdam(sp, lr=1e-3, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.04)
    ta = torch.optim.AdamW(wd_param_groups(model.student, 0.04), lr=1e-3, foreach=True)
    def fwd_bwd():
        s = model.student(crops)
        with torch.no_grad(): t = model.teacher(crops[:2])
        dino_loss(s, t, model.center, 0.04).backward()
    phases = {
        'augmentation': {'one call per crop, per-image resize': lambda: [a(x) for a in sep],
                         'apply_pipelines + batched resize (GPU path)': lambda: apply_pipelines(grouped, x)},
        'forward + backward + loss': {'timm ViT, fused attention': fwd_bwd},
        'optimizer': {"fastai Adam": fa.step, "ForeachAdam (dino_learner's)": fe.step, 'torch AdamW foreach': ta.step},
        'clipping': {'reference loop (a norm read per parameter)': lambda: ref_clip(sp, 3.0),
                     'ours (_foreach)': lambda: clip_grad_per_param_(sp, 3.0)},
        'teacher EMA': {'reference loop': lambda: ref_ema(tp, list(model.student.parameters()), 0.996),
                        'ours (_foreach)': lambda: update_momentum(model.student, tp, 0.996)},
    }
    rows = []
    for phase, fns in phases.items():
        t = side_by_side(fns, 'cpu', reps=args.reps, warmup=1)
        first = list(fns)[0]
        for k, fn in fns.items():
            r, rr = ratio_stats(t[first], t[k])
            rows.append(dict(phase=phase, variant=k, config=f'ViT-S/16 structure, width 48, {args.batch} images, 2+{args.locals} crops',
                             device='cpu (host work only)', aten_ops=n_ops(fn), host_ms=round(1e3 * med(t[k]), 2),
                             noise=round(spread(t[k]), 3), speed_vs_first=r, speed_range=rr))
        print_table(rows[-len(fns):])
    def total(pick):
        sel = [next(r for r in rows if r['phase'] == ph and r['variant'] == v) for ph, v in pick.items()]
        return dict(aten_ops=sum(r['aten_ops'] for r in sel), host_ms=round(sum(r['host_ms'] for r in sel), 2))
    fb = {'forward + backward + loss': 'timm ViT, fused attention'}
    ours = total({**fb, 'augmentation': 'apply_pipelines + batched resize (GPU path)', 'clipping': 'ours (_foreach)',
                  'teacher EMA': 'ours (_foreach)', 'optimizer': "ForeachAdam (dino_learner's)"})
    loops = total({**fb, 'augmentation': 'one call per crop, per-image resize', 'optimizer': 'fastai Adam',
                   'clipping': 'reference loop (a norm read per parameter)', 'teacher EMA': 'reference loop'})
    for name, tt in (('ours (sum of the phases)', ours), ('per-crop augmentation, fastai Adam, reference loops (sum)', loops)):
        rows.append(dict(phase='whole step', variant=name, config=rows[0]['config'], device='cpu (host work only)', **tt))
    print(); print_table(rows)
    save('host', rows, info, args, args.out)

if __name__ == '__main__': main()
