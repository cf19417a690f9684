"""Whole training steps on the CPU from the sample photos, data loading and crops included, for comparing two
versions of the library on the same images (run it once per checkout, e.g. under `/usr/bin/time`, alternating):

    PYTHONPATH=. python bench/bench_data_step.py            # this checkout
    PYTHONPATH=../old python bench/bench_data_step.py       # another checkout

ViT-S/16, 16 images x (2 x 224 + 6 x 96) crops, K = 4096, one torch thread, 3 steps. On a version whose `dino_dls`
has `max_size` the photos keep their aspect ratio (shorter side <= 448); on older ones they are squished to 256 x 256.
"""
import inspect, time
import torch
from self_supervised.data import dino_dls
from self_supervised.vision.dino import dino_learner

def main():
    torch.set_num_threads(1); torch.manual_seed(0)
    kw = dict(max_size=448) if 'max_size' in inspect.signature(dino_dls).parameters else dict(size=256)
    dls = dino_dls(None, bs=16, epoch_len=48, num_workers=0, **kw)
    learn = dino_learner(dls, arch='vit_small', patch_size=16, out_dim=4096, local_crops_number=6)
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
    print(f"{kw}: {len(dls.train)} steps in {time.perf_counter() - t:.1f} s")

if __name__ == '__main__': main()
