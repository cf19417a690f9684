"""Wrap code lines of notebooks longer than the project's limit (120), without changing what the code means.

python tools/wrap_lines.py nbs/*.ipynb          -> rewrites the notebooks' code cells, lists the lines it cannot wrap
python tools/wrap_lines.py --check nbs/*.ipynb    -> lists the long lines, exit status 1 if there are any
python tools/wrap_lines.py --stop-at '## On X' nbs/x.ipynb  -> leaves the cells from that markdown heading on alone

A long line is broken after its rightmost comma (inside brackets) that keeps the first part within the limit; the rest
goes on a new line aligned after the bracket (or at the line's own continuation indent). Statements joined by `;` are
split onto lines of their own where the line is not the body of an `if`/`for`/`with`... Comment lines are re-wrapped.
Each rewritten cell must parse to the same AST as before (comments and layout aside), or it is left as it was.
Outputs, ids and metadata are kept: only the `source` of code cells changes.
"""
import ast, io, json, sys, textwrap, tokenize
from pathlib import Path

LIMIT = 120
_COMPOUND = {'if', 'elif', 'else', 'for', 'while', 'with', 'def', 'class', 'try', 'except', 'finally', 'async',
             'lambda'}

def _tokens(src):
    try: return list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError): return None

def _break_once(src, lineno):
    "`src` with its line `lineno` (1-based) broken once, or None"
    toks = _tokens(src)
    if toks is None: return None
    lines = src.split('\n')
    line = lines[lineno - 1]
    closes, st = {}, []
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{': st.append(t.start)
        elif t.type == tokenize.OP and t.string in ')]}' and st: closes[st.pop()] = t.start
    stack, cands, first_tok = [], [], None   # stack: (row, col) of the open brackets
    lead = len(line) - len(line.lstrip())
    kw = {}   # per open bracket: the last of `for`/`in`/`lambda`/`:` seen directly in it
    for t in toks:
        if t.type == tokenize.NAME and t.string in ('for', 'in', 'lambda') or t.type == tokenize.OP and t.string == ':':
            kw[stack[-1] if stack else None] = t.string
        if t.start[0] == lineno and first_tok is None and t.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL,
                                                                           tokenize.NEWLINE, tokenize.COMMENT):
            first_tok = t
        if t.type == tokenize.OP and t.string in '([{': stack.append(t.start)
        elif t.type == tokenize.OP and t.string in ')]}': stack and stack.pop()
        elif t.type == tokenize.OP and t.start[0] == lineno and t.end[1] <= LIMIT - 1:
            rest = line[t.end[1]:].strip()
            if not rest or rest.startswith('#'): continue
            if t.string == ',' and stack:
                row, col = stack[-1]
                close = closes.get((row, col))
                span = LIMIT if row != lineno or close is None or close[0] != lineno else close[1] - col
                if span < 40: continue  # a break inside a short call or tuple reads badly: break an outer one
                if kw.get((row, col)) in ('for', 'lambda'): continue  # `for a, b in`, `lambda a, b:`
                depth = sum(1 for r, c in stack if r == lineno)  # brackets opened on this line around the comma
                cands.append((depth, t.end[1], col + 1 if row == lineno else lead))
            elif t.string == ';' and not stack and first_tok is not None and first_tok.string not in _COMPOUND:
                cands.append((-1, t.end[1], lead))
    if not cands: return None
    tail_len = lambda c: c[2] + len(line[c[1]:].strip())
    fits = [c for c in cands if tail_len(c) <= LIMIT]
    # the outermost bracket first; in it the rightmost break whose rest fits on one line, else the shortest rest
    if fits: d = min(c[0] for c in fits); _, cut, indent = max(c for c in fits if c[0] == d)
    else: d = min(c[0] for c in cands); _, cut, indent = min((c for c in cands if c[0] == d), key=tail_len)
    head, tail = line[:cut].rstrip(), ' ' * indent + line[cut:].strip()
    if head.endswith(';'): head = head[:-1].rstrip()
    if len(tail) >= len(line): return None
    nxt = lines[lineno] if lineno < len(lines) else ''
    if (nxt.strip() and not nxt.strip().startswith('#') and len(nxt) - len(nxt.lstrip()) == indent
            and len(tail) + 1 + len(nxt.strip()) <= LIMIT and cut != len(line.rstrip())):
        # the rest joins the next line of the same bracket, instead of a short line of its own
        return '\n'.join(lines[:lineno - 1] + [head, tail + ' ' + nxt.strip()] + lines[lineno + 1:])
    return '\n'.join(lines[:lineno - 1] + [head, tail] + lines[lineno:])

_BODY_KW = {'if', 'elif', 'else', 'for', 'while', 'with', 'def', 'try', 'except', 'finally'}

def _split_body(src, lineno):
    "`if cond: body` (and for/with/def...) on one long line -> the body on a line of its own, or None"
    toks = _tokens(src)
    if toks is None: return None
    lines = src.split('\n'); line = lines[lineno - 1]
    on = [t for t in toks if t.start[0] == lineno and t.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL,
                                                                     tokenize.NEWLINE, tokenize.COMMENT)]
    if not on or on[0].string not in _BODY_KW or on[0].start[1] != len(line) - len(line.lstrip()): return None
    depth = 0
    for t in on:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        elif t.type == tokenize.OP and t.string == ':' and depth == 0:
            rest = line[t.end[1]:].strip()
            if not rest or rest.startswith('#'): return None
            ind = ' ' * (on[0].start[1] + 4)
            return '\n'.join(lines[:lineno - 1] + [line[:t.end[1]].rstrip(), ind + rest] + lines[lineno:])
    return None

def _split_string(src, lineno, balanced=False):
    "A long string literal inside brackets on line `lineno` cut into two adjacent literals at a space, or None"
    toks = _tokens(src)
    if toks is None: return None
    lines = src.split('\n'); line = lines[lineno - 1]
    depth = 0
    for t in toks:
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        if t.type != tokenize.STRING or t.start[0] != lineno or t.end[0] != lineno or depth == 0: continue
        if t.end[1] <= LIMIT and not line[t.end[1]:].strip(): continue
        tok = t.string
        pre = ''
        while tok and tok[0] in 'rRfFbBuU': pre += tok[0]; tok = tok[1:]
        if tok[:3] in ('"""', "'''") or len(tok) < 2: continue
        q, body = tok[0], tok[1:-1]
        start = t.start[1] + len(pre) + 1
        limit = LIMIT - 1 - start   # room for the closing quote
        fmt, lvl, cut = 'f' in pre.lower(), 0, None
        for i, ch in enumerate(body):
            if fmt and ch == '{': lvl += 1
            elif fmt and ch == '}': lvl -= 1
            elif ch == ' ' and lvl == 0 and 10 < i < limit and (i == 0 or body[i - 1] != '\\'):
                if not balanced or cut is None or abs(i - len(body) / 2) < abs(cut - 1 - len(body) / 2): cut = i + 1
        if cut is None or cut >= len(body): continue
        a, b = pre + q + body[:cut] + q, pre + q + body[cut:] + q
        if fmt and '{' not in body[cut:]: b = b[len(pre):] if 'r' not in pre.lower() else b
        if fmt and '{' not in body[:cut]: a = a[len(pre):] if 'r' not in pre.lower() else a
        head = line[:t.start[1]] + a
        tail = ' ' * t.start[1] + b + line[t.end[1]:]
        return '\n'.join(lines[:lineno - 1] + [head, tail] + lines[lineno:])
    return None

def _split_docstring(src, lineno):
    "A statement that is one long string (a docstring) -> the same string in parentheses over two lines, or None"
    lines = src.split('\n'); line = lines[lineno - 1]; body = line.strip()
    if not body or body[0] not in '"\'' or body[:3] in ('"""', "\'\'\'") or body[-1] != body[0]: return None
    ind = len(line) - len(body)
    wrapped = '\n'.join(lines[:lineno - 1] + [' ' * ind + '(' + body + ')'] + lines[lineno:])
    new = _split_string(wrapped, lineno, balanced=True)  # two lines of about the same length
    return new

def _move_comment(src, lineno):
    "A statement line made long by its trailing comment -> the comment on its own line above, or None"
    toks = _tokens(src)
    if toks is None: return None
    lines = src.split('\n'); line = lines[lineno - 1]
    depth, com = 0, None
    for t in toks:
        if t.start[0] > lineno: break
        if t.type == tokenize.OP and t.string in '([{': depth += 1
        elif t.type == tokenize.OP and t.string in ')]}': depth -= 1
        if t.type == tokenize.COMMENT and t.start[0] == lineno: com = t
    if com is None or depth != 0 or com.start[1] == len(line) - len(line.lstrip()): return None
    code = line[:com.start[1]].rstrip()
    if len(code) > LIMIT or code.rstrip().endswith((',', '(', '[', '{', '\\')): return None
    ind = len(line) - len(line.lstrip())
    if code.lstrip().split(' ')[0] in _BODY_KW or code.endswith(':'): return None  # keep a comment on its block line
    c = [' ' * ind + '# ' + l for l in textwrap.wrap(com.string[1:].strip(), LIMIT - ind - 2, break_long_words=False)]
    return '\n'.join(lines[:lineno - 1] + c + [code] + lines[lineno:])

def _wrap_comment(line):
    body = line.lstrip(); ind = line[:len(line) - len(body)]
    if not body.startswith('#') or body.startswith('#|'): return None
    text = body[1:].strip()
    return [ind + '# ' + l for l in textwrap.wrap(text, LIMIT - len(ind) - 2, break_long_words=False)]

def _same(a, b):
    try: return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError: return False

def _join_literals(src):
    "A line that is only a short string literal, joined into the literal that follows it at the same indent"
    import re
    lines = src.split('\n')
    for j in range(len(lines) - 1):
        a, b = lines[j], lines[j + 1]
        ma = re.fullmatch(r'(\s*)(f?)"([^"\\]*)"', a)
        mb = re.match(r'(\s*)(f?)"', b)
        if not (ma and mb) or ma.group(1) != mb.group(1): continue
        pre = 'f' if ma.group(2) or mb.group(2) else ''
        joined = ma.group(1) + pre + '"' + ma.group(3) + b[mb.end():]
        if len(joined) > LIMIT: continue
        new = '\n'.join(lines[:j] + [joined] + lines[j + 2:])
        if _same(src, new): return _join_literals(new)
    return src

def wrap_source(src):
    "The cell source with its long lines wrapped where that keeps the AST"
    out = src
    for _ in range(200):
        lines = out.split('\n')
        long_ = [i for i, l in enumerate(lines, 1) if len(l) > LIMIT]
        changed = False
        for i in long_:
            new = None
            c = _wrap_comment(lines[i - 1])
            if c is not None and len(c) > 1: new = '\n'.join(lines[:i - 1] + c + lines[i:])
            else:
                for f in (_break_once, _split_body, _split_string, _split_docstring, _move_comment):
                    new = f(out, i)
                    if new is not None and _same(src, new): break
                    new = None
            if new is not None and _same(src, new): out, changed = new, True; break
        if not changed: break
    return _join_literals(out) if out != src else out

def long_lines(path, stop_at=None):
    nb = json.loads(Path(path).read_text())
    for i, c in enumerate(nb['cells']):
        s = ''.join(c['source'])
        if stop_at and c['cell_type'] == 'markdown' and s.startswith(stop_at): break
        if c['cell_type'] != 'code': continue
        for l in s.split('\n'):
            if len(l) > LIMIT: yield i, l

def wrap_notebook(path, stop_at=None):
    p = Path(path); nb = json.loads(p.read_text()); n = 0
    for c in nb['cells']:
        s = ''.join(c['source'])
        if stop_at and c['cell_type'] == 'markdown' and s.startswith(stop_at): break
        if c['cell_type'] != 'code' or s.lstrip().startswith(('%', '!')): continue
        new = wrap_source(s)
        if new != s: c['source'] = new.splitlines(keepends=True); n += 1
    if n: p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return n

if __name__ == '__main__':
    args = sys.argv[1:]; check = '--check' in args; args = [a for a in args if a != '--check']
    stop_at = None
    if '--stop-at' in args: k = args.index('--stop-at'); stop_at = args[k + 1]; del args[k:k + 2]
    left = 0
    for f in args:
        if not check: wrap_notebook(f, stop_at)
        for i, l in long_lines(f, stop_at):
            print(f'{f} cell {i}: {len(l)} chars: {l.strip()[:90]}'); left += 1
    sys.exit(1 if check and left else 0)
