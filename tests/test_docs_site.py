"""Open the built docs site (site/, from `bash tools/docs.sh`) in headless Chromium and check it as a reader would.

Run with the docs venv: `.venv-docs/bin/python -m pytest tests/test_docs_site.py` (tools/test_docs.sh does this).
Needs Debian's `chromium` and `chromium-driver` (or $CHROMIUM and $CHROMEDRIVER naming another Chrome and its driver). Everything is read from the repository (notebooks, the exported
modules' source, the processed notebooks in _proc/docs_src/) without importing the library, so the expectations come
from the sources, not from the site under test."""
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


REPO = re.search(r'^git_url\s*=\s*https://github.com/(\S+)', (root / 'settings.ini').read_text(), re.M)
REPO = REPO[1].replace('%(user)s', re.search(r'^user\s*=\s*(\S+)', (root / 'settings.ini').read_text(), re.M)[1]).replace(
    '%(repo)s', re.search(r'^repo\s*=\s*(\S+)', (root / 'settings.ini').read_text(), re.M)[1])
def has_math(md):
    "TeX between dollars, outside code (a shell prompt `$ cmd` in a code block is not math)"
    md = re.sub(r'`[^`\n]*`', '', re.sub(r'```.*?```', '', md, flags=re.S))
    return bool(re.search(r'\$\$.+?\$\$|(?<![\w$])\$[^$\s][^$\n]*?(?<!\s)\$(?![\w$])', md, re.S))


notebooks = sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
pages = {p.name: ('' if page_name(p) == 'index' else page_name(p) + '/') for p in notebooks}


def exported_api(nb):
    "(module file, [(name, first docstring line)]) for the functions and classes in the module's `__all__`"
    m = next((re.search(r'^#\|\s*default_exp\s+(\S+)', src(c), re.M) for c in cells(nb)
              if c['cell_type'] == 'code' and re.search(r'^#\|\s*default_exp', src(c), re.M)), None)
    if not m: return None, []
    mod = root / 'self_supervised' / (m[1].replace('.', '/') + '.py')
    tree = ast.parse(mod.read_text())
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and getattr(n.targets[0], 'id', '') == '__all__'), [])
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return mod, [(o, (ast.get_docstring(defs[o]) or '').strip().splitlines()[0] if ast.get_docstring(defs[o]) else '')
                 for o in names if o in defs]


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
            and not e['message'].startswith(f'https://api.github.com/repos/{REPO}')]


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
    # every <img> on the page loaded (a broken one has naturalWidth 0), and there is one per figure in the notebook
    imgs = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img')).map(i => [i.src.slice(0, 60), i.naturalWidth])")
    broken = [s for s, w in imgs if not w]
    assert not broken, f'{nb}: images that did not load: {broken}'
    expected = n_images(proc / ((pages[nb].rstrip('/') or 'index') + '.ipynb'))
    assert len(imgs) >= expected, f'{nb}: {expected} figures in the processed notebook, {len(imgs)} images on the page'
    # nav lists every page; math typeset by the bundled MathJax, no raw `$...$` left
    nav = browser.execute_script("return Array.from(document.querySelectorAll('.md-nav__link')).map(a => a.href)")
    for p in pages.values(): assert server + p in nav, f'{nb}: navigation has no link to {p or "home"}'
    if any(has_math(src(c)) for c in cells(nbs / nb) if c['cell_type'] == 'markdown'):
        assert browser.find_elements(By.CSS_SELECTOR, 'mjx-container, .MathJax, .mjx-chtml'), f'{nb}: math not typeset'


@pytest.mark.parametrize('nb', [n for n in pages if exported_api(nbs / n)[1]])
def test_api_page_shows_signatures(server, browser, nb):
    "Each exported function and class has a heading, a signature `name (args...)` and its docstring (nbdev show_doc)"
    mod, api = exported_api(nbs / nb)
    load(browser, server + pages[nb])
    heads = {h.text.strip(): h for h in browser.find_elements(By.CSS_SELECTOR, 'article h2, article h3, article h4')}
    text = re.sub(r'\s+', ' ', browser.find_element(By.TAG_NAME, 'article').text)
    sigs = [re.sub(r'\s+', ' ', e.text).strip() for e in browser.find_elements(By.CSS_SELECTOR, 'article pre')]
    missing = [n for n, _ in api if n not in heads]
    assert not missing, f'{nb}: no show_doc heading for {missing} (from {mod.name} __all__)'
    # show_doc renders `def name(args...)` (classes: their __init__'s arguments) as a code block under the heading
    nosig = [n for n, _ in api if not any(re.match(rf'(?:(?:async )?def |class )?{re.escape(n)} ?\(', s) for s in sigs)]
    assert not nosig, f'{nb}: no signature shown for {nosig}'
    nodoc = [n for n, d in api if d and re.sub(r'[`*_]', '', d)[:40] not in re.sub(r'[`*_]', '', text)]
    assert not nodoc, f'{nb}: docstring not shown for {nodoc}'


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
    "The search box finds an API name and links to the page that documents it"
    load(browser, server)
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
