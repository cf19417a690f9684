"""Open the built docs site (site/, from `bash tools/docs.sh`) in headless Chromium and check it as a reader would.

Run with the docs venv: `.venv-docs/bin/python -m pytest tests/test_docs_site.py` (tools/test_docs.sh does this).
Needs Debian's `chromium` and `chromium-driver` (or $CHROMIUM and $CHROMEDRIVER naming another Chrome and its driver). Everything is read from the repository (notebooks, the exported
modules' source, the processed notebooks in _proc/docs_src/) without importing the library, so the expectations come
from the sources, not from the site under test. Figures: tools/docs.py counts the figures each executed notebook made
(matplotlib's `pyplot.figure` calls, not what the capture kept) into _proc/figures.json; a page must show at least as
many images as its processed notebook has image outputs, and those at least as many as the notebook made figures."""
import ast, http.server, json, os, re, socket, threading, time, urllib.request
from functools import partial
from pathlib import Path
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

root = Path(__file__).resolve().parent.parent
site, proc, nbs = root / 'site', root / '_proc' / 'docs_src', root / 'nbs'
if not (site / 'index.html').exists(): pytest.skip('site/ is not built: run `bash tools/docs.sh`', allow_module_level=True)


def page_name(nb): return re.sub(r'^\d+[a-zA-Z]?_', '', nb.name)[:-len('.ipynb')]
def cells(nb): return json.loads(Path(nb).read_text())['cells']
def src(c): return ''.join(c['source']) if isinstance(c['source'], list) else c['source']
def n_images(nb):
    return sum('image/png' in o.get('data', {}) or 'image/jpeg' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {})
               for c in cells(nb) if c['cell_type'] == 'code' for o in c.get('outputs', []))


def ini(key):
    m = re.search(rf'^{key}\s*=\s*(\S+)', (root / 'settings.ini').read_text(), re.M)
    return m[1] if m else ''
# settings.ini's git_url (nbdev's https://github.com/%(user)s/%(repo)s) names a placeholder; `repo_url` the real one
PLACEHOLDER = ini('git_url').replace('%(user)s', ini('user')).replace('%(repo)s', ini('repo')).rstrip('/')
REPO_URL = (os.environ.get('DOCS_REPO_URL') or ini('repo_url')).rstrip('/')
REPO = REPO_URL.removeprefix('https://github.com/')
_figs = root / '_proc' / 'figures.json'
figures = json.loads(_figs.read_text()) if _figs.exists() else {}
def has_math(md):
    "TeX between dollars, outside code (a shell prompt `$ cmd` in a code block is not math)"
    md = re.sub(r'`[^`\n]*`', '', re.sub(r'```.*?```', '', md, flags=re.S))
    return bool(re.search(r'\$\$.+?\$\$|(?<![\w$])\$[^$\s][^$\n]*?(?<!\s)\$(?![\w$])', md, re.S))


notebooks = sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
pages = {p.name: ('' if page_name(p) == 'index' else page_name(p) + '/') for p in notebooks}


def _hidden(c): return bool(re.search(r'^#\|\s*hide\s*$', src(c), re.M))
def _dirs(c): return {re.sub(r'\s+', '', l[2:]).split(':')[0] for l in src(c).splitlines() if l.startswith('#|')}


def _commented(code, n):
    "Whether the parameters of def `n` (a class: its `__init__`) carry comments (fastcore's docments)"
    if isinstance(n, ast.ClassDef):
        n = next((b for b in n.body if isinstance(b, ast.FunctionDef) and b.name == '__init__'), None)
        if n is None: return False
    lines = code.splitlines()[n.lineno - 1:max(n.body[0].lineno - 1, n.lineno)]
    return any('#' in l for l in lines[:-1]) or bool(re.search(r',\s*#', lines[-1]))


def documented(nb):
    """[(name, first docstring line, signature has parameter comments)] that the page must `show_doc`: each explicit
    `show_doc(x)` of a shown cell, and each public def/class of an exported cell (`@patch` ones as `Class.name`), as
    nbdev's `add_show_docs` picks them"""
    defs, out = {}, []
    for c in cells(nb):
        if c['cell_type'] != 'code': continue
        try: tree = ast.parse('\n'.join(l for l in src(c).splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        exported = bool({'export', 'exports', 'exec_doc'} & _dirs(c)) and not _hidden(c) and \
            not re.search(r'^#\|\s*include:\s*false', src(c), re.M)
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = n.name
                if isinstance(n, ast.FunctionDef) and any(ast.unparse(d).startswith('patch') for d in n.decorator_list):
                    a = n.args.args[0].annotation if n.args.args else None
                    if a is not None: name = f'{ast.unparse(a)}.{n.name}'
                defs[name] = ((ast.get_docstring(n) or '').strip().split('\n')[0], _commented(src(c), n))
                if exported and (not n.name.startswith('_') or n.name.startswith('__')): out.append(name)
            elif (isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and n.value.args and not _hidden(c)
                  and getattr(n.value.func, 'id', '') == 'show_doc'):
                out.append(ast.unparse(n.value.args[0]))
    return [(n, *defs.get(n, ('', False))) for n in dict.fromkeys(out)]


@pytest.fixture(scope='module')
def server():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{port}/'
    httpd.shutdown()


@pytest.fixture(scope='module')
def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get('CHROMIUM', '/usr/bin/chromium')
    for a in ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
              '--disable-component-update', '--disable-dev-shm-usage', '--window-size=1280,900']: opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def load(browser, url):
    "Open `url`, wait until it and its images and MathJax are done; return the page's console errors"
    browser.get_log('browser')  # drop what earlier pages logged
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"
        " && (!window.MathJax || !MathJax.Hub || MathJax.Hub.queue.pending === 0)"))
    time.sleep(0.2)
    # the one request allowed to fail offline: mkdocs-material asks GitHub's API for the repository's stars and version
    return [e for e in browser.get_log('browser') if e['level'] in ('SEVERE', 'ERROR')
            and not (REPO and e['message'].startswith(f'https://api.github.com/repos/{REPO}'))]


def output_images(browser):
    "[(src, loaded width)] of the images in the page's cell outputs"
    return browser.execute_script("return Array.from(document.querySelectorAll('article .jp-OutputArea img'))"
                                  ".map(i => [i.src.slice(0, 60), i.naturalWidth])")


def check_figures(nb, on_page, in_proc):
    "Every figure notebook `nb` made is an image output of its processed notebook, and each of those is on its page"
    made = figures[page_name(nbs / nb)]['figures_made']
    assert in_proc >= made, f'{nb}: the notebook made {made} figures, its processed notebook holds {in_proc} images'
    assert on_page >= in_proc, f'{nb}: {in_proc} images in the processed notebook, {on_page} on the page'


def check_toc(browser, nb):
    "Each entry of the page's table of contents reads as its heading and links to it"
    bad = browser.execute_script("""
        const out = [];
        for (const a of document.querySelectorAll('.md-nav--secondary a.md-nav__link')) {
          const id = decodeURIComponent(a.hash.slice(1)), h = id && document.getElementById(id);
          const label = a.textContent.trim().replace(/\\s+/g, ' ');
          if (!h) { out.push(`${label}: no heading #${id}`); continue; }
          const text = h.textContent.replace('\u00b6', '').trim().replace(/\\s+/g, ' ');
          if (text !== label) out.push(`${label}: heading reads ${text}`);
        }
        return out;""")
    assert not bad, f'{nb}: table of contents entries that do not match their headings: {bad}'


def proc_nb(nb): return proc / (page_name(nbs / nb) + '.ipynb')


def test_every_notebook_has_a_page():
    for nb, p in pages.items(): assert (site / p / 'index.html').exists(), f'no page for {nb} (expected site/{p}index.html)'


@pytest.mark.parametrize('nb', list(pages))
def test_page(server, browser, nb):
    "Loads without console errors or failed requests, has its title, no error output, its figures load, math renders"
    errors = load(browser, server + pages[nb])
    assert not errors, f'{nb}: console errors:\n' + '\n'.join(e['message'] for e in errors)
    body = browser.find_element(By.TAG_NAME, 'article').text
    title = next(m[1] for c in cells(nbs / nb) if c['cell_type'] == 'markdown'
                 for m in [re.search(r'^#\s+(\S.*?)\s*$', src(c), re.M)] if m)
    h1 = [h.text for h in browser.find_elements(By.CSS_SELECTOR, 'article h1')]
    title = re.sub(r'[`*]', '', title)
    assert title in h1, f'{nb}: title {title!r} not among the headings {h1}'
    assert 'Traceback (most recent call last)' not in body, f'{nb}: the page shows a Python traceback'
    # every <img> on the page loaded (a broken one has naturalWidth 0)
    imgs = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img')).map(i => [i.src.slice(0, 60), i.naturalWidth])")
    broken = [s for s, w in imgs if not w]
    assert not broken, f'{nb}: images that did not load: {broken}'
    check_toc(browser, nb)
    # nav lists every page; math typeset by the bundled MathJax, no raw `$...$` left
    nav = browser.execute_script("return Array.from(document.querySelectorAll('.md-nav__link')).map(a => a.href)")
    for p in pages.values(): assert server + p in nav, f'{nb}: navigation has no link to {p or "home"}'
    if any(has_math(src(c)) for c in cells(nbs / nb) if c['cell_type'] == 'markdown'):
        assert browser.find_elements(By.CSS_SELECTOR, 'mjx-container, .MathJax, .mjx-chtml'), f'{nb}: math not typeset'


@pytest.mark.parametrize('nb', list(pages))
def test_page_figures(server, browser, nb):
    "Every figure the notebook made (counted as the docs build ran it) is an image that loads on its page"
    m = figures.get(page_name(nbs / nb))
    if m is None: pytest.fail(f'{nb}: not in _proc/figures.json: rebuild with bash tools/docs.sh')
    if m['committed_outputs']: pytest.skip('committed with its outputs: test_tutorial_figures')
    if not m['executed']: pytest.skip('built with --no-exec: no figures to compare')
    load(browser, server + pages[nb])
    imgs = output_images(browser)
    check_figures(nb, sum(w > 0 for _, w in imgs), n_images(proc_nb(nb)))


def _a_page_with_figures():
    nb = next((n for n in pages if (figures.get(page_name(nbs / n)) or {}).get('figures_made')), None)
    if nb is None: pytest.skip('no executed notebook made a figure (built with --no-exec?)')
    return nb


def test_figure_check_fails_when_the_page_misses_one(server, browser):
    "The figure check fails on a page with one image taken out"
    nb = _a_page_with_figures()
    load(browser, server + pages[nb])
    n = len(output_images(browser))
    browser.execute_script("document.querySelector('article .jp-OutputArea img').remove()")
    assert len(output_images(browser)) == n - 1
    with pytest.raises(AssertionError, match='on the page'): check_figures(nb, n - 1, n_images(proc_nb(nb)))


def test_figure_check_fails_when_the_capture_misses_one(tmp_path):
    "The figure check fails when the processed notebook lost one figure (as a notebook's matplotlib.use('Agg') did)"
    nb = _a_page_with_figures()
    d = json.loads(proc_nb(nb).read_text())
    c = next(c for c in d['cells'] if any('image/png' in o.get('data', {}) for o in c.get('outputs', [])))
    i = next(i for i, o in enumerate(c['outputs']) if 'image/png' in o.get('data', {}))
    del c['outputs'][i]
    (tmp_path / 'nb.ipynb').write_text(json.dumps(d))
    n = n_images(tmp_path / 'nb.ipynb')
    with pytest.raises(AssertionError, match='made'): check_figures(nb, n, n)


@pytest.mark.parametrize('nb', [n for n in pages if documented(nbs / n)])
def test_api_page_shows_signatures(server, browser, nb):
    """Each `show_doc` (explicit, or nbdev's for exported defs and classes) has its heading, the signature
    `name (args...)` without parameter comments in it, their table when there are some, and the docstring"""
    api = documented(nbs / nb)
    load(browser, server + pages[nb])
    # per heading: the code and tables of the show_doc output it heads
    blocks = browser.execute_script("""
        const out = {};
        for (const h of document.querySelectorAll('article h2, article h3, article h4')) {
          const box = h.closest('.jp-OutputArea-output') || h.parentElement;
          out[h.textContent.replace('\u00b6', '').trim()] = {
            pre: Array.from(box.querySelectorAll('pre')).map(p => p.textContent),
            tables: Array.from(box.querySelectorAll('table')).map(t => t.textContent)};
        }
        return out;""")
    text = re.sub(r'\s+', ' ', browser.find_element(By.TAG_NAME, 'article').text)
    # nbdev heads a `@patch` method `Class.name`, or `name` when another decorator (e.g. @contextmanager) wraps it
    head = {n: next((h for h in (n, n.split('.')[-1]) if h in blocks), None) for n, *_ in api}
    missing = [n for n, h in head.items() if h is None]
    assert not missing, f'{nb}: no show_doc heading for {missing}'
    for n, doc, commented in api:
        last, b = n.split('.')[-1], blocks[head[n]]
        sigs = [re.sub(r'\s+', ' ', p).strip() for p in b['pre']]
        sig = next((p for p in sigs if re.match(rf'(?:(?:async )?def |class )?{re.escape(last)} ?\(', p)), None)
        assert sig, f'{nb}: no signature shown for {n} (code under its heading: {sigs[:2]})'
        assert ' # ' not in sig, f'{nb}: parameter comments inside the signature of {n}: {sig[:200]}'
        if commented: assert any('Details' in t for t in b['tables']), f'{nb}: no parameter table for {n}'
    nodoc = [n for n, d, _ in api if d and re.sub(r'[`*_]', '', d)[:40] not in re.sub(r'[`*_]', '', text)]
    assert not nodoc, f'{nb}: docstring not shown for {nodoc}'


def test_repository_links(server):
    "Source links and the GitHub button go to the repository settings.ini's `repo_url` names, never to the placeholder"
    bad = []
    for f in site.rglob('*.html'):
        s = f.read_text()
        page = f.relative_to(site)
        if not REPO_URL and PLACEHOLDER in s: bad.append(f'{page} links to the placeholder {PLACEHOLDER}')
        if REPO_URL and 'md-source' not in s and f.name == 'index.html': bad.append(f'{page}: no GitHub button')
    assert not bad, '\n'.join(bad[:10])


def test_tutorial_figures(server, browser):
    "The tutorial is committed with its outputs: its figures are on its page as images that load"
    tut = sorted(nbs.glob('50_tutorial*.ipynb'))
    if not tut: pytest.skip('no nbs/50_tutorial*.ipynb yet')
    for nb in tut:
        n = n_images(nb)
        assert n, f'{nb.name} has no figure outputs committed'
        load(browser, server + pages[nb.name])
        ok = browser.execute_script("return Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 0).length")
        assert ok >= n, f'{nb.name}: {n} figures committed, {ok} images loaded on its page'


def test_search(server, browser):
    "The search box finds an API name and links to the page that documents it; the footer says search needs a server"
    load(browser, server)
    assert 'served over HTTP' in browser.find_element(By.CSS_SELECTOR, 'footer').text
    browser.execute_script("document.getElementById('__search').click()")  # the header's search toggle
    box = browser.find_element(By.CSS_SELECTOR, 'input.md-search__input')
    WebDriverWait(browser, 10).until(lambda d: box.is_displayed())
    box.send_keys('DINOHead')
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, '.md-search-result__item'))
    links = [a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, '.md-search-result__item a')]
    assert any('layers/' in l for l in links), f'search for DINOHead did not lead to the layers page: {links}'


def test_internal_links(server):
    "Links between pages (nbdev links names in backticks to their docs) point at pages that exist"
    bad = []
    for f in site.rglob('index.html'):
        if 'assets' in f.parts: continue
        for href in re.findall(r'href="([^"#:]+)(?:#[^"]*)?"', f.read_text()):
            if href.startswith(('/', 'mailto')) or href.endswith(('.css', '.js', '.json', '.xml', '.png', '.svg', '.ico')): continue
            base = f.parent.relative_to(site).as_posix()
            url = server + (base + '/' if base != '.' else '') + href
            try: urllib.request.urlopen(url, timeout=10)
            except Exception as e: bad.append(f'{f.relative_to(site)} -> {href}: {e}')
    assert not bad, 'broken links:\n' + '\n'.join(sorted(set(bad))[:20])
