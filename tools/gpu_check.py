"""GPU checks of mixed precision and compilation, for a lent GPU machine (about 2 minutes on one H200).

fastai's `MixedPrecision` autocasts on CUDA only, so the CPU tests cover fp16/bf16 by running it with the CPU device
(`41_distributed`); this script runs the real thing: ViT-S/16 DINO on the sample photos for a few epochs with
`to_fp16()`, `to_bf16()` and float32, then an fp16 run with one overflowing step, then `dino_compile()`. It asserts:
finite losses, float32 parameters / centre, scaler scales recorded, the skipped step leaves student and teacher as
they were and halves the scale, and fp16 / bf16 / compiled losses close to float32 over the first steps. Writes
`gpu_check.json` to the folder given as the first argument.

    python3 tools/gpu_check.py OUTDIR
"""
import json, math, sys, time, warnings
from pathlib import Path
import torch
from fastai.basics import Callback, set_seed
from self_supervised.data import dino_dls
from self_supervised.vision.dino import dino_learner
from self_supervised.layers import unwrap_model
import self_supervised.distributed  # noqa: F401  (Learner.dino_compile)
from self_supervised.test_utils import GradOverflow as Overflow   # an infinite gradient on one step

assert torch.cuda.is_available(), "tools/gpu_check.py needs a CUDA GPU"
out = Path(sys.argv[1] if len(sys.argv) > 1 else '.'); out.mkdir(parents=True, exist_ok=True)
res = dict(device=torch.cuda.get_device_name(), torch=torch.__version__)

class Rec(Callback):
    order = 90
    def before_fit(self): self.losses = []
    def after_batch(self):
        if self.training: self.losses.append(float(self.loss))

def run(amp=None, compile=False, cbs=(), epochs=4):
    set_seed(0, reproducible=True)
    dls = dino_dls(max_size=128, bs=32, epoch_len=256, num_workers=4, device='cuda')
    learn = dino_learner(dls, 'vit_small', patch_size=16, out_dim=4096, global_crop_size=112, local_crop_size=48,
                         local_crops_number=4, cbs=[Rec(), *cbs])
    if amp == 'fp16': learn.to_fp16()
    if amp == 'bf16': learn.to_bf16()
    if compile: learn.dino_compile()
    t0 = time.time()
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter('ignore'); learn.fit_dino(epochs, lr=5e-4, warmup_epochs=1)
    m = unwrap_model(learn.model)
    rec = learn.cbs.filter(lambda c: isinstance(c, Rec))[0]
    return learn, dict(losses=rec.losses, seconds=round(time.time() - t0, 1),
                       fp32_state=all(p.dtype == torch.float32 for p in m.parameters()) and m.center.dtype == torch.float32,
                       peak_gb=round(torch.cuda.max_memory_allocated() / 2**30, 2))

checks = {}
_, f32 = run(); res['fp32'] = f32
for amp in ('fp16', 'bf16'):
    torch.cuda.reset_peak_memory_stats()
    _, r = run(amp); res[amp] = r
    checks[f'{amp} finite'] = all(math.isfinite(l) for l in r['losses'])
    checks[f'{amp} fp32 state'] = r['fp32_state']
    checks[f'{amp} close to fp32 (first 4 steps, 5%)'] = all(abs(a - b) <= 0.05 * abs(b) for a, b in zip(r['losses'][:4], f32['losses'][:4]))
ovf = Overflow(at=3)
learn, r = run('fp16', cbs=[ovf]); res['fp16_overflow'] = dict(losses=r['losses'])
b, a = ovf.log['before'], ovf.log['after']
checks['skipped step: teacher unchanged'] = all(torch.equal(x, y) for x, y in zip(b['t'], a['t']))
checks['skipped step: student unchanged'] = all(torch.equal(x, y) for x, y in zip(b['s'], a['s']))
checks['skipped step: scale halved'] = a['scale'] == b['scale'] / 2
_, c = run('bf16', compile=True); res['bf16_compiled'] = c
checks['compiled bf16 close to eager bf16 (first 4 steps, 5%)'] = all(abs(x - y) <= 0.05 * abs(y) for x, y in zip(c['losses'][:4], res['bf16']['losses'][:4]))
res['checks'] = checks
(out/'gpu_check.json').write_text(json.dumps(res, indent=1))
for k, v in checks.items(): print(('PASS ' if v else 'FAIL ') + k)
print({k: res[k]['seconds'] for k in ('fp32', 'fp16', 'bf16', 'bf16_compiled')})
sys.exit(0 if all(checks.values()) else 1)
