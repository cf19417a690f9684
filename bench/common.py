"Shared helpers for the benchmark scripts: machine description, side-by-side timing, result tables and JSON."
import datetime, json, os, platform, socket, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np, torch

RESULTS = Path(__file__).parent / 'results'
H200_BF16_PEAK = 989e12  # dense bf16 tensor-core FLOP/s of an H100/H200 SXM (NVIDIA's spec sheet, no sparsity)

def load_avg():
    "The 1/5/15-minute load averages: how busy the machine was around a measurement"
    try: return [round(v, 2) for v in os.getloadavg()]
    except OSError: return None

def uptime_line():
    try: return subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()
    except Exception: return f'load {load_avg()}'

def _cpu_model():
    try:
        for l in open('/proc/cpuinfo'):
            if l.startswith('model name'): return l.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor()

def machine_info(device):
    "Date, machine and library versions, stored with every result"
    import timm, kornia
    info = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                host=socket.gethostname(), platform=platform.platform(), python=sys.version.split()[0],
                cpu=_cpu_model(), n_cpus=os.cpu_count(), torch_threads=torch.get_num_threads(),
                torch=torch.__version__, timm=timm.__version__, kornia=kornia.__version__,
                device=str(device), load_avg_start=load_avg())
    try:
        import fastai; info['fastai'] = fastai.__version__
    except ImportError: pass
    if torch.device(device).type == 'cuda':
        p = torch.cuda.get_device_properties(device)
        info.update(gpu=p.name, gpu_mem_gb=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    return info

def sync(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize(device)

def reset_peak(device):
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(device)

def peak_gb(device):
    "Peak memory allocated by torch on a GPU since the last `reset_peak` (None on CPU)"
    if torch.device(device).type != 'cuda': return None
    return round(torch.cuda.max_memory_allocated(device) / 1e9, 3)

def timeit(fn, device, n=1):
    "Seconds per call of `fn`, averaged over `n` back-to-back calls, with the device synchronised around them"
    sync(device); t = time.perf_counter()
    for _ in range(n): fn()
    sync(device); return (time.perf_counter() - t) / n

def side_by_side(fns:dict, device, reps=5, warmup=1, n=1):
    """Time the variants in `fns` interleaved (A B C, then C B A, ...) `reps` times after `warmup` rounds.
    Interleaving exposes every variant to the same background load; returns {name: [seconds per call, ...]}"""
    names = list(fns)
    for _ in range(warmup):
        for k in names: fns[k]()
    out = {k: [] for k in names}
    for r in range(reps):
        for k in (names if r % 2 == 0 else names[::-1]): out[k].append(timeit(fns[k], device, n))
    return out

def med(v): return statistics.median(v)

def spread(v):
    "Relative half-range of the middle 50% of the samples (a noise figure that ignores one-off spikes)"
    if len(v) < 2: return 0.
    q1, q3 = np.percentile(v, [25, 75])
    return float((q3 - q1) / 2 / statistics.median(v))

def ratio_stats(a, b):
    "Median and min..max of the per-rep ratios a[i]/b[i] (paired: both taken in the same round)"
    r = [x / y for x, y in zip(a, b)]
    return round(med(r), 3), [round(min(r), 3), round(max(r), 3)]

def print_table(rows, cols=None):
    if not rows: return
    cols = cols or list(dict.fromkeys(k for r in rows for k in r))
    fmt = lambda v: f'{v:.4g}' if isinstance(v, float) else ('' if v is None else str(v))
    w = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) for c in cols}
    print(' | '.join(c.ljust(w[c]) for c in cols))
    print('-|-'.join('-' * w[c] for c in cols))
    for r in rows: print(' | '.join(fmt(r.get(c)).ljust(w[c]) for c in cols))

def save(name, rows, info, args, out_dir=None):
    "Write `{name}_{device type}.json` with the machine, the command line and every row"
    out_dir = Path(out_dir or RESULTS); out_dir.mkdir(parents=True, exist_ok=True)
    info = {**info, 'load_avg_end': load_avg(), 'uptime_end': uptime_line()}
    dev = torch.device(info['device']).type
    f = out_dir / f'{name}_{dev}.json'
    json.dump(dict(bench=name, machine=info, command=' '.join(sys.argv), args=vars(args), rows=rows),
              open(f, 'w'), indent=1, default=str)
    print(f'\nwrote {f}'); return f

def add_common_args(p, default_reps=5):
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--reps', type=int, default=default_reps, help='interleaved rounds per comparison (medians reported)')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (default 1: on a shared, oversubscribed CPU, 2 OpenMP threads ran the Kornia '
                        'pipelines ~30x slower than 1; a data-loader worker uses 1 too)')
    p.add_argument('--out', default=None, help='folder for the JSON (default bench/results)')
    return p

def setup(args):
    torch.set_num_threads(args.threads or 1)
    print(uptime_line())
    info = machine_info(args.device)
    print({k: info[k] for k in ('date', 'host', 'cpu', 'n_cpus', 'torch_threads', 'torch', 'device') if k in info},
          info.get('gpu', ''))
    return info

def sample_images(n, size=256, data=None):
    "`n` decoded RGB PIL images of `size`x`size`: photos from `data` (a folder of JPEGs) or scikit-image's sample photos"
    from PIL import Image
    ims = []
    if data:
        files = sorted(Path(data).rglob('*.JPEG')) + sorted(Path(data).rglob('*.jpg'))
        files = files[:n]
        ims = [Image.open(f).convert('RGB') for f in files]
    if not ims:
        import skimage.data as sd
        ims = [Image.fromarray(f()).convert('RGB') for f in (sd.astronaut, sd.chelsea, sd.coffee, sd.rocket)]
    def square(im):
        s = min(im.size); l, t = (im.size[0] - s) // 2, (im.size[1] - s) // 2
        return im.crop((l, t, l + s, t + s)).resize((size, size), Image.BICUBIC)
    ims = [square(im) for im in ims]
    return [ims[i % len(ims)].copy() for i in range(n)]

def pil_to_uint8(ims):
    "Stack PIL images into a (N,3,H,W) uint8 tensor"
    return torch.from_numpy(np.stack([np.asarray(im) for im in ims])).permute(0, 3, 1, 2).contiguous()
