"""Predicted peak memory and FLOPs of one DINO training step for the paper's configurations, without a GPU.

The step (ViT-S/16 student on every crop, teacher on the two global ones, DINO head with K = 65536, the loss, the
backward pass) runs on fake tensors: tensors with shapes, dtypes and strides but no data, so a step of 64 images costs a
second on any CPU. A dispatch mode counts every storage an operation creates until it is freed, the way
`torch.cuda.max_memory_allocated` counts the GPU's allocations (what the reference logs as "max mem" and the paper
reports per GPU). Added to it: the weights of student and teacher, the student's gradients (fastai zeroes them in place,
as the reference's `optimizer.zero_grad()` did in PyTorch 1.7, so they stay allocated) and AdamW's two moments.

Rows compare our step (timm's fused attention, `F.scaled_dot_product_attention`) with the same step computing attention
explicitly, as the reference does (the n x n attention matrix of every head is kept for the backward pass), next to the
paper's measured numbers. What this does not see: the CUDA allocator's rounding (512-byte blocks), cuBLAS/cuDNN
workspaces, the augmentation's temporaries (they are freed before the forward pass), DDP's gradient buckets in a
multi-GPU run (another copy of the student's gradients), and differences between the CPU's and the GPU's autocast op
lists and attention kernels (on a GPU the flash / memory-efficient kernels keep one log-sum-exp per query, like the CPU
kernel counted here). `bench_step.py --device cuda` measures the real peak.

    python bench/bench_memory.py                    # ViT-S/16, 64 images, 2x224 + {0,2,6,10}x96, fp16/bf16/fp32
"""
import argparse, contextlib, sys, warnings, weakref
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
warnings.filterwarnings('ignore')
import torch, torch.nn.functional as F
import torch.utils._pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode
from torch._subclasses.fake_tensor import FakeTensorMode
from common import *
from bench_step import build
from self_supervised.vision.dino import dino_loss

PAPER_GB = {0: 9.3, 2: 10.5, 6: 12.9, 10: 15.4}  # DINO paper, Table 7 (ViT-S/16, 64 images per GPU, fp16)

class LiveBytes(TorchDispatchMode):
    "Bytes held by tensor storages created by the ops run under it (or `add`ed), each counted once until freed; and the peak"
    def __init__(self):
        super().__init__()
        self.live = self.peak = 0
        self._refs = {}

    def add(self, t):
        "Count the storage of `t` (once) from now until it is freed"
        if not isinstance(t, torch.Tensor): return
        st = t.untyped_storage()
        key = st._cdata
        if key in self._refs: return
        n = st.nbytes()
        # a storage's Python object lives as long as its C++ storage (PyObject preservation), also when only
        # autograd holds it, so its weak reference dies exactly when the memory is given back
        self._refs[key] = weakref.ref(st, lambda _, key=key, n=n: self._free(key, n))
        self.live += n; self.peak = max(self.peak, self.live)

    def _free(self, key, n):
        if self._refs.pop(key, None) is not None: self.live -= n

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in pytree.tree_leaves(out): self.add(t)
        return out

AMP = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}

@contextlib.contextmanager
def gpu_flash_attention():
    """Send `F.scaled_dot_product_attention` to the kernel PyTorch picks on an H100/H200: flash attention for
    half-precision inputs with 64-channel heads, memory-efficient attention for float32. Without a GPU, PyTorch cannot
    pick a fused kernel for fake CUDA tensors and falls back to the explicit computation; the ops' fake implementations
    give the tensors the GPU kernels keep for the backward pass."""
    sdpa = F.scaled_dot_product_attention
    def flash(q, k, v, attn_mask=None, dropout_p=0., is_causal=False, scale=None, **kwargs):
        if q.device.type != 'cuda' or attn_mask is not None or kwargs:
            return sdpa(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale, **kwargs)
        if q.dtype == torch.float32:
            return torch.ops.aten._scaled_dot_product_efficient_attention(
                q, k, v, None, q.requires_grad, dropout_p, is_causal, scale=scale)[0]
        return torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, dropout_p, is_causal, scale=scale)[0]
    F.scaled_dot_product_attention = flash
    try: yield
    finally: F.scaled_dot_product_attention = sdpa

def _step(n_local, amp, fused, batch, out_dim, arch, patch, device):
    """Count one training step at steady state on fake tensors of `device`: bytes alive after the forward pass and
    the loss, the peak, the state's parts and the FLOPs. On fake CUDA tensors only the forward pass can run (the
    autograd engine wants a real GPU for the backward pass), so `backward` is done only on 'cpu'."""
    cfg = dict(arch=arch, patch=patch, out_dim=out_dim, n_local=n_local, crop_sizes=(224, 96))
    with torch.device('meta'): model = build(cfg, 'meta')
    cuda = device == 'cuda'
    with FakeTensorMode(allow_non_fake_inputs=True):
        model = model.to_empty(device=device)
        for m in model.modules():
            if hasattr(m, 'fused_attn'): m.fused_attn = fused
        mem = LiveBytes()
        trainable = [p for p in model.student.parameters() if p.requires_grad]
        for p in trainable: p.grad = torch.zeros_like(p)  # steady state: fastai zeroes gradients in place
        state = [torch.zeros_like(p) for p in trainable for _ in range(2)]  # AdamW's exp_avg and exp_avg_sq
        batch_x = torch.empty(batch, 3, 224, 224, device=device)  # the loader's float batch, held until the next one
        crops = ([torch.empty(batch, 3, 224, 224, device=device) for _ in range(2)]
                 + [torch.empty(batch, 3, 96, 96, device=device) for _ in range(n_local)])
        size = lambda ts: sum(t.numel() * t.element_size() for t in ts)
        static = {'weights (student + teacher)': size(model.state_dict().values()), 'gradients': size(trainable),
                  'AdamW moments': size(state), 'batch + crops': size([batch_x] + crops)}
        for t in list(model.state_dict().values()) + [p.grad for p in trainable] + state + [batch_x] + crops: mem.add(t)
        base = mem.live
        flops = FlopCounterMode(display=False)
        # torch.autocast refuses 'cuda' without a GPU; these two calls set the same state, so the GPU's autocast rules
        # (which ops run in half precision, which in float32) apply to the fake CUDA tensors
        prev = torch.is_autocast_enabled(device), torch.get_autocast_dtype(device)
        torch.set_autocast_enabled(device, amp != 'fp32'); torch.set_autocast_dtype(device, AMP[amp] or torch.float32)
        try:
            with flops, mem, gpu_flash_attention():
                s = model.student(crops)
                with torch.no_grad(): t = model.teacher(crops[:2])
                loss = dino_loss(s, t, model.center, 0.04)
                after_forward = mem.live
                torch.set_autocast_enabled(device, False)  # fastai runs the backward pass outside autocast
                if not cuda: loss.backward()
                del s, t, loss
        finally: torch.set_autocast_enabled(device, prev[0]); torch.set_autocast_dtype(device, prev[1])
    return dict(static=static, base=base, after_forward=after_forward, peak=mem.peak, step_flops=flops.get_total_flops())

def predict(n_local, amp, fused, batch=64, out_dim=65536, arch='vit_small', patch=16):
    """Predicted peak bytes of a GPU step: the forward pass under the GPU's autocast rules (fake CUDA tensors), plus
    what the backward pass adds on top of the forward pass's bytes, from the same step on fake CPU tensors"""
    kw = dict(n_local=n_local, amp=amp, fused=fused, batch=batch, out_dim=out_dim, arch=arch, patch=patch)
    g, c = _step(device='cuda', **kw), _step(device='cpu', **kw)
    backward_extra = c['peak'] - c['after_forward']
    return dict(static=c['static'], base=c['base'], peak=max(g['peak'], g['after_forward'] + backward_extra),
                after_forward=g['after_forward'], backward_extra=backward_extra, peak_cpu_rules=c['peak'],
                step_flops=c['step_flops'])

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--locals', type=int, nargs='+', default=[0, 2, 6, 10])
    p.add_argument('--amp', nargs='+', default=['fp16', 'bf16', 'fp32'])
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--out', default=None)
    args = p.parse_args()
    args.device = 'cpu'; args.threads = 1
    info = setup(args); info['method'] = 'fake tensors on the CPU: predicted, not measured on a GPU'
    rows = []
    for amp in args.amp:
        for n in args.locals:
            r = {fused: predict(n, amp, fused, args.batch) for fused in (True, False)}
            ours, explicit = r[True], r[False]
            rows.append(dict(model='vit_small/16 + head K=65536', crops=f'2x224+{n}x96', batch=args.batch, amp=amp,
                             device='fake (predicted)', pred_peak_GB=round(ours['peak'] / 1e9, 2),
                             pred_peak_GB_explicit_attention=round(explicit['peak'] / 1e9, 2),
                             paper_GB=PAPER_GB.get(n) if amp == 'fp16' and args.batch == 64 else None,
                             state_GB=round(ours['base'] / 1e9, 2),
                             after_forward_GB=round(ours['after_forward'] / 1e9, 2),
                             backward_extra_GB=round(ours['backward_extra'] / 1e9, 2),
                             pred_peak_GB_cpu_autocast=round(ours['peak_cpu_rules'] / 1e9, 2),
                             step_TFLOP=round(ours['step_flops'] / 1e12, 2),
                             static_GB={k: round(v / 1e9, 3) for k, v in ours['static'].items()}))
            print_table(rows[-1:], [c for c in rows[-1] if c != 'static_GB'])
    print(); print_table(rows, [c for c in rows[0] if c != 'static_GB'])
    save('memory', rows, info, args, args.out)

if __name__ == '__main__': main()
