"""(d) Weighted k-NN evaluation time and peak memory: `knn_accuracy` (chunked, all k in one pass) on 50k train x 10k
test random features (dim 384, 1000 classes), and a naive unchunked version on a smaller size for comparison
(same numbers checked).

    python bench/bench_knn.py --device cpu
    python bench/bench_knn.py --device cuda
"""
import argparse, resource, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
import torch, torch.nn.functional as F
from common import *
from self_supervised.evaluation import knn_accuracy, knn_classify

def naive_knn_scores(train, labels, test, k, T, C):
    "All similarities at once, then the top-k votes: memory n_test x n_train"
    train, test = F.normalize(train.float(), dim=1), F.normalize(test.float(), dim=1)
    sims, idx = (test @ train.T).topk(k, dim=1)
    return torch.zeros(len(test), C, device=train.device).scatter_add_(1, labels[idx], (sims / T).exp())

def rss_gb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: kB -> GB

def main():
    p = add_common_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter), 3)
    p.add_argument('--n-train', type=int, default=50_000); p.add_argument('--n-test', type=int, default=10_000)
    p.add_argument('--dim', type=int, default=384); p.add_argument('--classes', type=int, default=1000)
    p.add_argument('--small', type=int, nargs=2, default=(10_000, 2_000), help='train/test sizes for the naive comparison')
    args = p.parse_args()
    info = setup(args)
    dev = torch.device(args.device); rows = []
    g = torch.Generator().manual_seed(0)
    def data(nt, nv):
        tr, te = torch.randn(nt, args.dim, generator=g), torch.randn(nv, args.dim, generator=g)
        ytr, yte = torch.randint(0, args.classes, (nt,), generator=g), torch.randint(0, args.classes, (nv,), generator=g)
        return [t.to(dev) for t in (tr, ytr, te, yte)]
    base = dict(dim=args.dim, classes=args.classes, device=str(dev))
    # full size: ours only
    tr, ytr, te, yte = data(args.n_train, args.n_test)
    reset_peak(dev); r0 = rss_gb()
    fns = {'ours': lambda: knn_accuracy(tr, ytr, te, yte, ks=(10, 20, 100, 200), num_classes=args.classes)}
    t = side_by_side(fns, dev, reps=args.reps, warmup=1)
    rows.append(dict(**base, size=f'{args.n_train} x {args.n_test}', impl='knn_accuracy (chunked, k=10/20/100/200)',
                     seconds=round(med(t['ours']), 3), noise=round(spread(t['ours']), 3),
                     peak_mem_GB=peak_gb(dev), rss_growth_GB=round(rss_gb() - r0, 3) if dev.type == 'cpu' else None))
    print_table(rows); print(uptime_line())
    del tr, ytr, te, yte
    # smaller size: ours vs naive unchunked, k = 20, same scores
    tr, ytr, te, yte = data(*args.small)
    a = knn_classify(tr, ytr, te, k=20, num_classes=args.classes)
    b = naive_knn_scores(tr, ytr, te, 20, 0.07, args.classes).cpu()
    diff = (a - b).abs().max().item() / b.abs().max().item()
    fns = {'naive': lambda: naive_knn_scores(tr, ytr, te, 20, 0.07, args.classes),
           'ours': lambda: knn_classify(tr, ytr, te, k=20, num_classes=args.classes)}
    t = side_by_side(fns, dev, reps=args.reps, warmup=1)
    peaks = {}
    for k, f in fns.items(): reset_peak(dev); f(); peaks[k] = peak_gb(dev)
    r, rr = ratio_stats(t['naive'], t['ours'])
    for k in fns:
        rows.append(dict(**base, size=f'{args.small[0]} x {args.small[1]}', impl={'naive': 'naive unchunked (k=20)',
                         'ours': 'knn_classify (chunked, k=20)'}[k], seconds=round(med(t[k]), 4), noise=round(spread(t[k]), 3),
                         peak_mem_GB=peaks[k], speedup_vs_naive=r if k == 'ours' else 1.0,
                         speedup_range=rr if k == 'ours' else None, max_rel_diff=diff if k == 'ours' else None))
    print(); print_table(rows)
    save('knn', rows, info, args, args.out)

if __name__ == '__main__': main()
