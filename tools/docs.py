"""Process the notebooks for the docs site (Quarto cannot be installed here, so nbdev_docs is out).

Runs nbdev's own notebook processors (so `show_doc` signatures and docstrings, hidden cells, links) and writes plain
Jupyter notebooks plus `mkdocs.yml` into `_proc/docs_src/`; `tools/docs.sh` then builds the site with mkdocs-material
and mkdocs-jupyter (which renders the notebooks as they are, without running them).

Figures: a notebook committed without outputs is executed here, every code cell except those flagged with
settings.ini's `tst_flags` (e.g. `#| slow`), `#| notest` or `#| eval: false`; a notebook committed with outputs (the
tutorial, which trains for minutes) keeps them, and only the cells nbdev needs for `show_doc` are run. Every figure
a cell leaves open is shown under it, as Jupyter's inline backend does, even after a notebook's `matplotlib.use('Agg')`
(which turns the inline capture off); the number of figures each notebook made goes to `_proc/figures.json`, for the
browser test to compare with the page.

`show_doc` renders the signature without the parameter comments, then nbdev's parameter table (Type, Default,
Details): comments inside a signature wrap mid-word on a narrow page.

Repository links (`[source]` beside each `show_doc`, the header's GitHub button) need the real repository:
settings.ini's `git_url` is nbdev's `https://github.com/%(user)s/%(repo)s` with a placeholder user, so links go there
only when settings.ini names the repository in `repo_url = https://github.com/OWNER/NAME` (or $DOCS_REPO_URL does);
without it the site links to no repository.
Run with the toolchain venv: `.venv/bin/python tools/docs.py [--no-exec]`."""
import argparse, json, os, re, shutil, sys, time
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out_dir = root / '_proc' / 'docs_src'
fig_dir = root / '_proc' / 'figures'  # one JSON per page: the figures its notebook made


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
        def begin(self):
            super().begin()
            if hasattr(self, 'k'): self.figures = show_figures(self.k)

        def __call__(self, cell):
            if not hasattr(self, 'k'): return
            made = self.figures['made']
            try: self._run(cell)
            finally: self.figures['cells'].append((cell, self.figures['made'] - made))  # the cell: idx_ changes

        def _run(self, cell):
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


def show_figures(shell):
    """Show every pyplot figure a cell leaves open under it, whatever the backend, and count the figures made.

    Jupyter's inline backend shows them after each cell, until a notebook switches the backend (`matplotlib.use('Agg')`
    keeps `nbdev_test` from opening windows); this runs after the inline backend's own flush, so nothing is shown twice.
    Returns a dict whose 'made' counts the distinct figures `pyplot.figure` created (subplots, imshow... all go
    through it): the figures Jupyter would show, unless a notebook closes one itself; `exec_cells` adds 'cells',
    (cell, count) per cell run."""
    import weakref
    import matplotlib.pyplot as plt
    from matplotlib._pylab_helpers import Gcf
    from IPython.display import display
    seen, count = weakref.WeakSet(), {'made': 0, 'cells': []}
    figure = plt.figure
    def counted_figure(*args, **kwargs):
        fig = figure(*args, **kwargs)
        if fig not in seen: seen.add(fig); count['made'] += 1
        return fig
    counted_figure.__wrapped__ = figure
    plt.figure = counted_figure
    def flush():
        managers = Gcf.get_all_fig_managers()
        for m in managers: display(m.canvas.figure)
        if managers: plt.close('all')
    shell.events.register('post_execute', flush)
    return count


def _docs_renderer():
    "nbdev's `show_doc` renderer, with the parameter comments as a table under the signature instead of inside it"
    from nbdev.showdoc import BasicMarkdownRenderer
    from fastcore.docments import DocmentText, DocmentTbl, _maybe_nm, _list2row, _bold

    class _Sig(DocmentText):
        @property
        def params(self): return [(p, '') for p, _ in super().params]
        @property
        def _ret_str(self): return super()._ret_str.split(' # ', 1)[0]

    def esc(o): return re.sub(r'(?<!\\)\|', r'\\|', _maybe_nm(o))  # `float | None` would split a table cell

    class _Tbl(DocmentTbl):
        def _row(self, nm, props): return [nm] + [esc(props[c]) for c in self._columns]
        @property
        def return_str(self):
            return _list2row(['**Returns**'] + [_bold(esc(self.dm['return'][c])) for c in self._columns])

    class Renderer(BasicMarkdownRenderer):
        def __init__(self, sym, name=None, title_level=3, maxline=110):
            super().__init__(sym, name=name, title_level=title_level, maxline=maxline)
            self.dm = _Sig(self.sym, maxline=maxline, docstring=False)
        def _repr_markdown_(self):
            try: tbl = _Tbl(self.sym)._repr_markdown_()
            except Exception: tbl = ''  # not a function or class (e.g. an instance): nbdev shows no table either
            return super()._repr_markdown_() + (f'\n\n{tbl}' if tbl else '')
    return Renderer


def repo_url(cfg):
    "The real repository (settings.ini `repo_url` or $DOCS_REPO_URL), or '' (`git_url` is nbdev's placeholder)"
    return (os.environ.get('DOCS_REPO_URL') or cfg.get('repo_url', '') or '').rstrip('/')


def process(src, dst, execute):
    "Run nbdev's processors over notebook `src` and write the result to `dst` (runs in a worker process)"
    t0 = time.time()
    os.chdir(src.parent)  # as nbdev_test does: notebooks may use paths relative to their folder
    os.environ['IN_TEST'] = '1'
    from nbdev.config import get_config
    from execnb.nbio import read_nb, write_nb
    cfg = get_config()
    skip_flags = set(cfg.get('tst_flags', '').split()) | {'notest'}
    import nbdev.showdoc
    nbdev.showdoc.BasicMarkdownRenderer = _docs_renderer()  # `show_doc` looks its default renderer up at each call
    nb = read_nb(src)
    committed = has_outputs(nb)
    execute_all = execute and not committed
    proc = _procs_class(execute_all, skip_flags)().nb_proc(nb)
    proc.process()
    # figures of the cells left on the page (nbdev drops `#| hide` cells, and their outputs with them)
    per_cell = next((p.figures['cells'] for p in proc.procs if hasattr(p, 'figures')), [])
    kept = {id(c) for c in nb.cells}
    made = sum(n for c, n in per_cell if id(c) in kept)
    write_nb(nb, dst)
    to_plain(dst, cfg)
    fig_dir.mkdir(parents=True, exist_ok=True)
    (fig_dir / f'{dst.stem}.json').write_text(json.dumps(
        {'executed': execute_all, 'committed_outputs': committed, 'figures_made': made if execute_all else None}))
    return f'{src.name}: {"executed" if execute_all else "outputs as committed"}, {time.time() - t0:.0f} s'


_re_fence = re.compile(r'^:::.*$', re.MULTILINE)          # Quarto fenced divs (nbdev boxes exported source in them)
# Quarto attribute blocks: `## Title {#id .class}`, `[source](url){target="_blank" style="..."}`
_re_attrs = re.compile(r'(?<=\S)[ \t]*\{(?:[#.][^}\n]*|[\w-]+=[^}\n]*)\}')


def code_in_headings(md):
    """`name` -> <code>name</code> in headings: mkdocs-jupyter deletes every `...` span before it builds the table of
    contents, so "One call: `a` and `b`" lists as "One call: and" and links to an id the heading does not have"""
    import html
    def fix(m): return re.sub(r'`([^`\n]+)`', lambda c: f'<code>{html.escape(c[1], quote=False)}</code>', m[0])
    parts = re.split(r'(^```.*?^```)', md, flags=re.M | re.S)  # a `# comment` in a fenced block is no heading
    return ''.join(p if i % 2 else re.sub(r'^#{1,6}\s.*$', fix, p, flags=re.M) for i, p in enumerate(parts))


def to_plain(path, cfg):
    "Turn the Quarto-only parts of an nbdev-processed notebook into plain notebook form"
    nb = json.loads(path.read_text())
    site = f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/"
    prefix = '' if path.stem == 'index' else '../'
    # links nbdev adds to names in backticks point at the Quarto site's `name.html`: point them at this site's pages
    def local_links(s):
        s = re.sub(re.escape(site) + r'([\w.\-]+)\.html', lambda m: prefix + ('' if m[1] == 'index' else m[1] + '/'), s)
        return s
    # nbdev's `[source](git_url/blob/branch/file#Ln)` beside each show_doc: to the real repository, or none
    git, repo = cfg.git_url.rstrip('/'), repo_url(cfg)
    def source_links(s):
        if repo: return s.replace(git + '/', repo + '/')
        return re.sub(r'\[source\]\(' + re.escape(git) + r'/[^)\s]*\)(\{[^}\n]*\})?\s*', '', s)
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
            c['source'] = local_links(code_in_headings(src))
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
                    o['data']['text/markdown'] = source_links(local_links(_re_attrs.sub('', _re_fence.sub('', md))))
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
        if m: return re.sub(r'[`*]|</?code>', '', re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', m[1]))  # the nav: plain text
    return path.stem


def write_mkdocs_yml(pages, cfg):
    "Navigation: home first, then the notebooks in their numbered order"
    nav = [{title_of(out_dir / p): p} for p in pages]
    conf = {
        'site_name': cfg.get('title', cfg.lib_name),
        'site_description': cfg.get('description', ''),
        'site_url': f"{cfg.doc_host.rstrip('/')}{cfg.doc_baseurl.rstrip('/')}/",
        # the footer says what a reader of the files needs to know: search (and folder links) need a web server
        'copyright': 'Search works when the site is served over HTTP (<code>bash tools/docs.sh --serve</code>), '
                     'not when its files are opened directly.',
        'extra_css': ['extra.css'],
        'docs_dir': '.', 'site_dir': str(root / 'site'),
        'theme': {'name': 'material', 'font': False,  # no Google fonts: the site works offline
                  'features': ['navigation.sections', 'search.highlight', 'content.code.copy']},
        'plugins': ['search', {'mkdocs-jupyter': {'execute': False, 'include_source': False, 'no_prompt': True, 'cache': False,
                                                  'ignore_h1_titles': True, 'remove_tag_config':
                                                      {'remove_input_tags': ['remove_input']}}}],
        'markdown_extensions': ['admonition', 'tables'],
        'nav': nav,
    }
    if repo_url(cfg): conf['repo_url'] = repo_url(cfg)  # the header's GitHub button; none for the placeholder
    (out_dir / 'mkdocs.yml').write_text(json.dumps(conf, indent=1))  # JSON is YAML
    # signatures and code keep their lines (scrolling sideways) instead of wrapping mid-word
    # (!important: the notebook CSS that mkdocs-jupyter inlines in each page comes later and sets pre-wrap, break-all)
    css = ('.jupyter-wrapper .jp-RenderedMarkdown pre {white-space: pre !important; word-break: normal !important; '
           'overflow-wrap: normal !important; overflow-x: auto}\n')
    (out_dir / 'extra.css').write_text(css)


_re_mathjax = re.compile(r'(<!-- Load mathjax -->\s*<script src=")[^"]*(">)')  # mkdocs-jupyter leaves src empty


def unique_heading_ids(s):
    """Give repeated headings the ids the table of contents links to: mkdocs-jupyter numbers a second "Tests" `tests_1`,
    as Python-Markdown does, while nbconvert gives every "Tests" heading the id `tests`"""
    toc, seen = set(re.findall(r'<a href="#([^"]+)" class="md-nav__link', s)), set()
    def renumber(m):
        i, k = m[3], 1
        while f'{i}_{k}' in seen: k += 1
        if i not in seen or f'{i}_{k}' not in toc: seen.add(i); return m[0]
        seen.add(f'{i}_{k}')  # the heading and its own anchor link
        return f'{m[1]}{i}_{k}{m[4]}' + m[5].replace(f'href="#{i}"', f'href="#{i}_{k}"') + m[6]
    return re.sub(r'(<h([1-6])\b[^>]*\bid=")([^"]+)("[^>]*>)(.*?)(</h\2>)', renumber, s, flags=re.S)


def finish_site(site):
    """Point every page at the MathJax copied into `site/assets/mathjax` (page-relative, so it works under any base
    URL); make repeated heading ids match the table of contents"""
    n = 0
    for f in site.rglob('*.html'):
        s = f.read_text()
        if 'md-nav__link' in s: f.write_text(s := unique_heading_ids(s))
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
    for d in (out_dir, fig_dir):
        if d.exists(): shutil.rmtree(d)
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
    figs = {f.stem: json.loads(f.read_text()) for f in sorted(fig_dir.glob('*.json'))}
    (root / '_proc' / 'figures.json').write_text(json.dumps(figs, indent=1))
    print(f'processed {len(nbs)} notebooks into {out_dir.relative_to(root)} in {time.time() - t0:.0f} s')


if __name__ == '__main__': main()
