"""Process the notebooks for the docs site (Quarto cannot be installed here, so nbdev_docs is out).

Runs nbdev's own notebook processors (so `show_doc` signatures and docstrings, hidden cells, links) and writes plain
Jupyter notebooks plus `mkdocs.yml` into `_proc/docs_src/`; `tools/docs.sh` then builds the site with mkdocs-material
and mkdocs-jupyter (which renders the notebooks as they are, without running them).

Figures: a notebook committed without outputs is executed here, every code cell except those flagged with
settings.ini's `tst_flags` (e.g. `#| slow`), `#| notest` or `#| eval: false`; a notebook committed with outputs (the
tutorial, which trains for minutes) keeps them, and only the cells nbdev needs for `show_doc` are run.
Run with the toolchain venv: `.venv/bin/python tools/docs.py [--no-exec]`."""
import argparse, json, os, re, shutil, sys, time
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out_dir = root / '_proc' / 'docs_src'


def page_name(nb_path):
    "`10_vision.dino.ipynb` -> `vision.dino.ipynb`, the page name nbdev/Quarto would give it"
    return re.sub(r'^\d+[a-zA-Z]?_', '', nb_path.name)


def has_outputs(nb):
    return any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code')


def _procs_class(execute_all, skip_flags):
    from nbdev.processors import FilterDefaults, exec_show_docs, _do_eval, cell_lang
    from nbdev.frontmatter import FrontmatterProc

    class exec_cells(exec_show_docs):
        "nbdev's `exec_show_docs`, and (for notebooks committed without outputs) every other runnable code cell too"
        def __call__(self, cell):
            if not hasattr(self, 'k'): return
            if execute_all:
                if not (_do_eval(cell) or self._runnable(cell)): return
                self.k.cell(cell)
                if self.k.exc: raise Exception(f'Error in {self.nb.path_}, cell {cell.idx_}:\n{cell.source}') from self.k.exc
            else:
                try: super().__call__(cell)
                except Exception as e:
                    # without execution, a cell mixing imports with code that needs earlier (unexecuted) cells fails:
                    # nbdev warns about such cells; here only export cells must run (they feed show_doc)
                    if 'export' in ''.join(cell.directives_): raise
                    print(f'warning: {Path(self.nb.path_).name} cell {cell.idx_} (imports mixed with code) failed unexecuted: {e.__cause__!r}')
                    self.k.exc, cell.outputs = None, []

        def _runnable(self, cell):
            if cell.cell_type != 'code' or cell_lang(cell) != 'python' or not cell.source.strip(): return False
            if 'nbdev_export' + '()' in cell.source: return False
            d = cell.directives_
            if d.get('eval:', [''])[0].lower() == 'false': return False
            return not (set(d) & skip_flags)

    class DocsProcs(FilterDefaults):
        # FrontmatterProc would turn the title cell into Quarto front matter and drop any prose in that cell
        def base_procs(self):
            return [exec_cells if p is exec_show_docs else p for p in super().base_procs() if p is not FrontmatterProc]
    return DocsProcs


def process(src, dst, execute):
    "Run nbdev's processors over notebook `src` and write the result to `dst` (runs in a worker process)"
    t0 = time.time()
    os.chdir(src.parent)  # as nbdev_test does: notebooks may use paths relative to their folder
    os.environ['IN_TEST'] = '1'
    from nbdev.config import get_config
    from execnb.nbio import read_nb, write_nb
    cfg = get_config()
    skip_flags = set(cfg.get('tst_flags', '').split()) | {'notest'}
    nb = read_nb(src)
    execute_all = execute and not has_outputs(nb)
    _procs_class(execute_all, skip_flags)()(nb)
    write_nb(nb, dst)
    to_plain(dst, cfg)
    return f'{src.name}: {"executed" if execute_all else "outputs as committed"}, {time.time() - t0:.0f} s'


_re_fence = re.compile(r'^:::.*$', re.MULTILINE)          # Quarto fenced divs (nbdev boxes exported source in them)
# Quarto attribute blocks: `## Title {#id .class}`, `[source](url){target="_blank" style="..."}`
_re_attrs = re.compile(r'(?<=\S)[ \t]*\{(?:[#.][^}\n]*|[\w-]+=[^}\n]*)\}')


def to_plain(path, cfg):
    "Turn the Quarto-only parts of an nbdev-processed notebook into plain notebook form"
    nb = json.loads(path.read_text())
    site = f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/"
    prefix = '' if path.stem == 'index' else '../'
    # links nbdev adds to names in backticks point at the Quarto site's `name.html`: point them at this site's pages
    def local_links(s):
        s = re.sub(re.escape(site) + r'([\w.\-]+)\.html', lambda m: prefix + ('' if m[1] == 'index' else m[1] + '/'), s)
        return s
    cells = []
    for c in nb['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'raw':
            m = re.match(r'^---\s*\n(.*?)\n---\s*$', src.strip(), re.DOTALL)
            if not m: continue
            import yaml
            fm = yaml.safe_load(m[1]) or {}
            if 'title' not in fm: continue
            src = f"# {fm['title']}" + (f"\n\n> {fm['description']}" if fm.get('description') else '')
            c = {'cell_type': 'markdown', 'metadata': {}, 'source': src}
        elif c['cell_type'] == 'markdown':
            src = _re_attrs.sub('', _re_fence.sub('', src)).strip('\n')
            if not src.strip(): continue
            # nbdev links names in the title too: a page title links to nothing
            src = re.sub(r'^#\s.*$', lambda m: re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m[0]), src, count=1, flags=re.M)
            c['source'] = local_links(src)
        else:
            lines = src.splitlines()
            dirs = {l.replace(' ', '') for l in lines if l.startswith('#|')}
            if '#|echo:false' in dirs:
                c['metadata'].setdefault('tags', []).append('remove_input')
            c['source'] = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
            # library warnings printed while the notebook ran are noise on a docs page
            c['outputs'] = [o for o in c.get('outputs', []) if not (o.get('name') == 'stderr' and
                            re.search(r'\w+Warning:', ''.join(o.get('text', ''))))]
            for o in c.get('outputs', []):
                md = o.get('data', {}).get('text/markdown')
                if md is not None:
                    md = ''.join(md) if isinstance(md, list) else md
                    o['data']['text/markdown'] = local_links(_re_attrs.sub('', _re_fence.sub('', md)))
            if not c['source'] and not c.get('outputs'): continue
        cells.append(c)
    nb['cells'] = cells
    path.write_text(json.dumps(nb, indent=1))


def title_of(path):
    nb = json.loads(path.read_text())
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        m = re.search(r'^#\s+(\S.*?)\s*$', src, re.MULTILINE)
        if m: return re.sub(r'[`*]', '', re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m[1]))  # the nav shows plain text
    return path.stem


def write_mkdocs_yml(pages, cfg):
    "Navigation: home first, then the notebooks in their numbered order"
    nav = [{title_of(out_dir / p): p} for p in pages]
    conf = {
        'site_name': cfg.get('title', cfg.lib_name),
        'site_description': cfg.get('description', ''),
        'site_url': f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/",
        'repo_url': cfg.git_url,
        'docs_dir': '.', 'site_dir': str(root / 'site'),
        'theme': {'name': 'material', 'font': False,  # no Google fonts: the site works offline
                  'features': ['navigation.sections', 'search.highlight', 'content.code.copy']},
        'plugins': ['search', {'mkdocs-jupyter': {'execute': False, 'include_source': False, 'no_prompt': True, 'cache': False,
                                                  'ignore_h1_titles': True, 'remove_tag_config':
                                                      {'remove_input_tags': ['remove_input']}}}],
        'markdown_extensions': ['admonition', 'tables'],
        'nav': nav,
    }
    (out_dir / 'mkdocs.yml').write_text(json.dumps(conf, indent=1))  # JSON is YAML


_re_mathjax = re.compile(r'(<!-- Load mathjax -->\s*<script src=")[^"]*(">)')  # mkdocs-jupyter leaves src empty


def finish_site(site):
    "Point every page at the MathJax copied into `site/assets/mathjax` (page-relative, so it works under any base URL)"
    n = 0
    for f in site.rglob('*.html'):
        s = f.read_text()
        if not _re_mathjax.search(s): continue
        rel = '../' * (len(f.relative_to(site).parts) - 1)
        f.write_text(_re_mathjax.sub(lambda m: f'{m[1]}{rel}assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe{m[2]}', s))
        n += 1
    assert (site / 'assets/mathjax/MathJax.js').exists(), 'MathJax was not copied into the site'
    print(f'{n} pages use the bundled MathJax')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-exec', action='store_true', help="don't execute notebooks committed without outputs")
    ap.add_argument('--finish', metavar='SITE', help='post-process the built site (used by tools/docs.sh)')
    ap.add_argument('--one', nargs=2, metavar=('SRC', 'DST'), help='process one notebook (used internally)')
    args = ap.parse_args()
    if args.finish: return finish_site(Path(args.finish))
    if args.one: return print(process(Path(args.one[0]).resolve(), Path(args.one[1]).resolve(), not args.no_exec))
    os.chdir(root)
    sys.path.insert(0, str(root))
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    cfg = get_config()
    nbs = sorted(nbglob(cfg.nbs_path, func=Path), key=lambda p: (p.name != 'index.ipynb', str(p)))
    if out_dir.exists(): shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    t0 = time.time()
    def run(p):  # one fresh interpreter per notebook, as nbdev_test does
        cmd = [sys.executable, __file__, '--one', str(p), str(out_dir / page_name(p))] + ['--no-exec'] * args.no_exec
        # one torch thread per notebook, as tools/test.sh does: two notebooks at once on two cores, no oversubscription
        env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'PYTHONWARNINGS': 'ignore'}
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode: raise RuntimeError(f'FAIL: processing {p.name}:\n{r.stdout}{r.stderr[-5000:]}')
        return r.stdout.strip()
    n = int(os.environ.get('DOCS_WORKERS', min(2, os.cpu_count() or 1)))
    ex = ThreadPoolExecutor(n)
    try:
        for msg in ex.map(run, nbs): print('  ' + msg, flush=True)
    except RuntimeError as e:
        ex.shutdown(wait=True, cancel_futures=True)
        sys.exit(str(e))
    ex.shutdown()
    write_mkdocs_yml([page_name(p) for p in nbs], cfg)
    print(f'processed {len(nbs)} notebooks into {out_dir.relative_to(root)} in {time.time() - t0:.0f} s')


if __name__ == '__main__': main()
