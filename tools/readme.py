"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed here).

Markdown cells are copied, code cells become ```python blocks (without their `#|` directive lines), `#| hide` cells
and cell outputs are left out. `tools/test.sh` runs this and fails when README.md was out of date."""
import json
from pathlib import Path

root = Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
parts = ['<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->']
for c in nb['cells']:
    src = ''.join(c['source']).strip('\n')
    lines = src.splitlines()
    directives = [l for l in lines if l.startswith('#|')]
    if any(d.replace(' ', '') in ('#|hide', '#|echo:false') for d in directives): continue
    body = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
    if not body: continue
    if c['cell_type'] == 'markdown': parts.append(body)
    elif c['cell_type'] == 'code':
        lang = 'bash' if body.startswith('!') else 'python'
        parts.append(f'```{lang}\n{body.lstrip("!") if lang == "bash" else body}\n```')
out = root / 'README.md'
text = '\n\n'.join(parts) + '\n'
if not out.exists() or out.read_text() != text: out.write_text(text); print('README.md updated')
