"""Convert between notebooks and percent-format scripts (`# %%` / `# %% [markdown]`), for editing notebooks as text.

python tools/nbpy.py to-nb nbs/x.py   -> writes nbs/x.ipynb (code cells keep `#|` directives)
python tools/nbpy.py to-py nbs/x.ipynb -> writes /tmp/<name>.py
"""
import json, sys, re, hashlib
from pathlib import Path

def to_nb(src):
    src = Path(src); text = src.read_text()
    cells, cur, kind = [], [], None
    def flush():
        if kind is None: return
        lines = cur[:]
        while lines and not lines[-1].strip(): lines.pop()
        while lines and not lines[0].strip(): lines.pop(0)
        if kind == 'markdown': lines = [re.sub(r'^# ?', '', l) for l in lines]
        body = '\n'.join(lines)
        c = {'cell_type': kind, 'metadata': {}, 'source': body}
        if kind == 'code': c.update(execution_count=None, outputs=[])
        cells.append(c)
    for line in text.splitlines():
        if line.startswith('# %%'):
            flush(); cur = []; kind = 'markdown' if '[markdown]' in line else 'code'
        else: cur.append(line)
    flush()
    nb = {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
          'nbformat': 4, 'nbformat_minor': 5}
    seen = set()
    for c in cells:  # nbformat wants a list of lines, and stable cell ids (nbdev writes them into the exported modules)
        cid = hashlib.sha1(c['source'].encode()).hexdigest()[:8]
        while cid in seen: cid = hashlib.sha1(cid.encode()).hexdigest()[:8]
        seen.add(cid); c['id'] = cid
        s = c['source'].splitlines(keepends=True); c['source'] = s
    out = src.with_suffix('.ipynb'); out.write_text(json.dumps(nb, indent=1) + '\n'); print(out)

def to_py(src):
    nb = json.loads(Path(src).read_text()); out = []
    for c in nb['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] == 'markdown': out.append('# %% [markdown]\n' + '\n'.join('# ' + l if l else '#' for l in s.splitlines()))
        else: out.append('# %%\n' + s)
    p = Path('/tmp') / (Path(src).stem + '.py'); p.write_text('\n\n'.join(out) + '\n'); print(p)

if __name__ == '__main__':
    {'to-nb': to_nb, 'to-py': to_py}[sys.argv[1]](sys.argv[2])
