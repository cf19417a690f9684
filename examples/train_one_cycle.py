"""DINO from a script with fastai's `fit_one_cycle`: the DINO callback keeps its own schedules for weight decay,
teacher temperature and teacher momentum; the one-cycle policy drives the lr.

    python examples/train_one_cycle.py                 # the embedded sample photos, a small CPU-sized run
    python examples/train_one_cycle.py PATH 100        # a folder of images, ViT-S/16 at the paper's crop sizes
"""
import sys
from self_supervised.data import dino_dls
from self_supervised.vision.dino import dino_learner
from self_supervised.checkpoint import SaveCheckpoint, export_backbone

path = sys.argv[1] if len(sys.argv) > 1 else None
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 4
if path is None:   # CPU-sized: ViT-tiny/8 on 32 px global and 16 px local crops of photos bounded to 64 px
    dls = dino_dls(None, max_size=64, bs=16, epoch_len=128)
    learn = dino_learner(dls, arch='vit_tiny', patch_size=8, out_dim=1024, global_crop_size=32, local_crop_size=16,
                         local_crops_number=4, head_kwargs=dict(hidden_dim=256, bottleneck_dim=64))
else:              # the reference's defaults: ViT-S/16, 2 x 224 + 8 x 96 crops, K = 65536
    dls = dino_dls(path, bs=64)  # shorter side <= 448 px, aspect ratio kept
    learn = dino_learner(dls, arch='vit_small', patch_size=16)
learn.fit_one_cycle(epochs, lr_max=0.0005 * dls.train.bs / 256 * (16 if path is None else 1),
                    cbs=SaveCheckpoint(every=1, keep_last=2, path='runs/one_cycle'))
print('teacher backbone:', export_backbone(learn, 'runs/one_cycle/teacher_backbone.safetensors'))
