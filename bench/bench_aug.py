"""(a) Multi-crop augmentation throughput: our batched Kornia pipelines (on --device) against a per-image
PIL/torchvision-v1 pipeline that follows the reference recipe, on the same decoded images.

    python bench/bench_aug.py --device cpu --batch 16 --locals 6 10
    python bench/bench_aug.py --device cuda --batch 64 --locals 0 2 6 10
"""
import argparse, random, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch
from PIL import Image, ImageFilter, ImageOps
import torchvision.transforms as T
from common import *
from self_supervised.augmentations import get_dino_aug_pipelines, apply_pipelines, IMAGENET_MEAN, IMAGENET_STD

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
    args = p.parse_args()
    info = setup(args)
    dev = torch.device(args.device); cuda = dev.type == 'cuda'
    bs = args.batch or (64 if cuda else 16)
    locs = args.locals or ([0, 2, 6, 10] if cuda else [6, 10])
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
        rows.append(dict(**cfg, impl='reference PIL/torchvision v1, per image', device='cpu', threads=1,
                         img_per_s=round(bs / med(t['reference_pil']), 1), ms_per_batch=round(1e3 * med(t['reference_pil']), 1),
                         noise=round(spread(t['reference_pil']), 3), speedup_vs_ref=1.0))
        rows.append(dict(**cfg, impl='ours: Kornia, batched', device=str(dev), threads=torch.get_num_threads() if not cuda else None,
                         img_per_s=round(bs / med(t['ours_kornia']), 1), ms_per_batch=round(1e3 * med(t['ours_kornia']), 1),
                         noise=round(spread(t['ours_kornia']), 3), speedup_vs_ref=r, speedup_range=rr))
        print_table(rows[-2:]); print(uptime_line())
    print(); print_table(rows)
    save('aug', rows, info, args, args.out)

if __name__ == '__main__': main()
