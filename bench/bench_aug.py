"""(a) Multi-crop augmentation throughput: our batched pipelines (on --device) against a per-image
PIL/torchvision-v1 pipeline that follows the reference recipe.

Two input kinds, both in every run:
- `decoded`: the same in-memory square images for both (augmentation alone);
- `photos`: full-resolution JPEG files of varied shapes, decoding included, as in training: the reference decodes each
  photo and crops the original (one data-loader worker); ours decodes with `load_photo` (shorter side <= --max-size,
  reduced-size JPEG decoding, one worker), batches the photos on a padded uint8 canvas and crops it on --device.

    python bench/bench_aug.py --device cpu --batch 16 --locals 6 8
    python bench/bench_aug.py --device cuda --batch 64 --locals 0 2 6 8 10
"""
import argparse, random, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch
from PIL import Image, ImageFilter, ImageOps
import torchvision.transforms as T
from common import *
from self_supervised.augmentations import get_dino_aug_pipelines, apply_pipelines, IMAGENET_MEAN, IMAGENET_STD
from self_supervised.data import load_photo, pad_photos, sample_images_path

class PILBlur:
    "Gaussian blur with probability p and a radius drawn uniformly in [lo, hi] (PIL's box-filter approximation)"
    def __init__(self, p, lo=0.1, hi=2.0): self.p, self.lo, self.hi = p, lo, hi
    def __call__(self, im):
        return im.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.lo, self.hi))) if random.random() < self.p else im

class PILSolarize:
    "Invert pixels >= 128 with probability p"
    def __init__(self, p): self.p = p
    def __call__(self, im): return ImageOps.solarize(im) if random.random() < self.p else im

def reference_crops(n_local, sizes=(224, 96), g_scale=(0.4, 1.), l_scale=(0.05, 0.4)):
    "The reference recipe as torchvision-v1 transforms on PIL images, one callable per crop"
    colour = [T.RandomHorizontalFlip(0.5), T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8), T.RandomGrayscale(0.2)]
    norm = [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    rrc = lambda s, sc: T.RandomResizedCrop(s, scale=sc, interpolation=T.InterpolationMode.BICUBIC)
    g1 = T.Compose([rrc(sizes[0], g_scale), *colour, PILBlur(1.0), *norm])
    g2 = T.Compose([rrc(sizes[0], g_scale), *colour, PILBlur(0.1), PILSolarize(0.2), *norm])
    loc = T.Compose([rrc(sizes[1], l_scale), *colour, PILBlur(0.5), *norm])
    return [g1, g2] + [loc] * n_local

def timing_row(cfg, impl, times, bs, device, threads, **extra):
    "A table row for `impl`: images per second, median ms per batch of `bs` and the spread of `times` (s per batch)"
    return dict(**cfg, impl=impl, device=device, threads=threads, img_per_s=round(bs / med(times), 1),
                ms_per_batch=round(1e3 * med(times), 1), noise=round(spread(times), 3), **extra)


def per_image_batch(ims, crops):
    "What one data-loader worker does for a batch: every crop of every image, then collate (stack per crop)"
    per = [[c(im) for c in crops] for im in ims]
    return [torch.stack(v) for v in zip(*per)]

def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter), 5)
    p.add_argument('--batch', type=int, default=None, help='images per batch (default 64 on a GPU, 16 on a CPU)')
    p.add_argument('--locals', type=int, nargs='+', default=None, help='numbers of 96 px local crops')
    p.add_argument('--img-size', type=int, default=256, help='side of the decoded square input images')
    p.add_argument('--data', default=None, help='folder of JPEGs (default: scikit-image sample photos)')
    p.add_argument('--max-size', type=int, default=448, help="photos rows: dino_dls's bound on the shorter side")
    args = p.parse_args()
    info = setup(args)
    dev = torch.device(args.device); cuda = dev.type == 'cuda'
    bs = args.batch or (64 if cuda else 16)
    locs = args.locals or ([0, 2, 6, 8, 10] if cuda else [6, 8])
    ims = sample_images(bs, args.img_size, args.data)
    x8 = pil_to_uint8(ims)
    if cuda: x8 = x8.pin_memory()
    rows = []
    for n_local in locs:
        ref = reference_crops(n_local)
        ours = [a.to(dev) for a in get_dino_aug_pipelines(num_crops=(2, n_local))]
        def run_ref():
            # a data-loader worker runs torch with one thread
            nt = torch.get_num_threads(); torch.set_num_threads(1)
            try: per_image_batch(ims, ref)
            finally: torch.set_num_threads(nt)
        def run_ours():
            x = x8.to(dev, non_blocking=True)
            return apply_pipelines(ours, x)  # as DINO.before_batch: the local crops in one call
        t = side_by_side({'reference_pil': run_ref, 'ours_kornia': run_ours}, dev, reps=args.reps, warmup=1)
        r, rr = ratio_stats(t['reference_pil'], t['ours_kornia'])
        cfg = dict(crops=f'2x224+{n_local}x96', batch=bs, input=f'{args.img_size}px uint8')
        rows.append(timing_row(cfg, 'reference PIL/torchvision v1, per image', t['reference_pil'], bs, 'cpu', 1,
                               speedup_vs_ref=1.0))
        rows.append(timing_row(cfg, 'ours: Kornia, batched', t['ours_kornia'], bs, str(dev),
                               torch.get_num_threads() if not cuda else None, speedup_vs_ref=r, speedup_range=rr))
        print_table(rows[-2:]); print(uptime_line())
    rows += photo_rows(args, dev, bs, locs)
    print(); print_table(rows)
    save('aug', rows, info, args, args.out)

def photo_files(data, n):
    "Full-resolution JPEGs: the files of `data`, or the sample photos (300 x 400 to 1411 x 1411) written as JPEGs once"
    if data: return (sorted(Path(data).rglob('*.JPEG')) + sorted(Path(data).rglob('*.jpg')))[:n]
    d = Path(tempfile.mkdtemp(prefix='bench_photos_'))
    files = []
    for f in sorted(sample_images_path().iterdir()):
        with Image.open(f) as im: im.convert('RGB').save(d/(f.stem + '.jpg'), quality=90)
        files.append(d/(f.stem + '.jpg'))
    return files

def photo_rows(args, dev, bs, locs):
    "Rows for full-resolution JPEG files, decoding included, as a data-loader worker and the DINO callback see them"
    cuda = dev.type == 'cuda'
    files = photo_files(args.data, 10_000)
    batch = [files[i % len(files)] for i in range(bs)]
    rows = []
    for n_local in locs:
        ref = reference_crops(n_local)
        ours = [a.to(dev) for a in get_dino_aug_pipelines(num_crops=(2, n_local))]
        def one_thread(fn):
            nt = torch.get_num_threads(); torch.set_num_threads(1)
            try: return fn()
            finally: torch.set_num_threads(nt)
        def run_ref(): one_thread(lambda: per_image_batch([Image.open(f).convert('RGB') for f in batch], ref))
        def decode(): return pad_photos([load_photo(f, args.max_size) for f in batch])  # a worker's share
        def run_ours():
            xb = one_thread(decode)
            x = (xb.pin_memory() if cuda else xb).to(dev, non_blocking=True)
            return apply_pipelines(ours, x, xb.sizes)
        def run_decode(): one_thread(decode)
        t = side_by_side({'reference_pil': run_ref, 'ours': run_ours, 'ours_decode': run_decode}, dev, reps=args.reps, warmup=1)
        r, rr = ratio_stats(t['reference_pil'], t['ours'])
        cfg = dict(crops=f'2x224+{n_local}x96', batch=bs, input=f'JPEG files, full resolution ({len(files)} photos)')
        rows.append(timing_row(cfg, 'reference PIL/torchvision v1, per image, decode included', t['reference_pil'], bs,
                               'cpu', 1, speedup_vs_ref=1.0))
        rows.append(timing_row(cfg, f'ours: load_photo(max_size={args.max_size}) in 1 worker, crops batched', t['ours'],
                               bs, str(dev), torch.get_num_threads() if not cuda else None,
                               speedup_vs_ref=r, speedup_range=rr))
        rows.append(timing_row(cfg, 'ours: decoding alone (load_photo + pad_photos), 1 worker', t['ours_decode'], bs,
                               'cpu', 1))
        print_table(rows[-3:]); print(uptime_line())
    return rows

if __name__ == '__main__': main()
