"""Which cells of a notebook its explorers need: the rule behind the browser tests' short copies.

A browser test checks that an explorer works in JupyterLab (it renders, its slider redraws the
figure); nbval already runs every cell of every notebook. So the copy a browser test runs keeps
only the code cells the explorer cells need, found by reading the code (``needed_cells``):

1. the explorer cells (a call ``widgets.<name>_explorer(``) are kept, and the names they read
   are *needed*;
2. going back through the earlier code cells, a cell is kept when it binds a needed name
   (assignment, ``for``/``with`` target, ``def``, ``class``, ``import``, ``global`` inside a
   function) or may change one in place: an assignment to an item or attribute of it
   (``x[i] = ...``, ``x.a = ...``, ``x += ...``), a method call on it as a statement
   (``model.load_state_dict(...)``, ``items.append(...)``), a statement-level call that is
   passed it (``train(model, ...)``), or a call of a function defined in the notebook that
   changes it in place (``fit(...)`` whose body does ``models[name] = ...``); every name a
   kept cell reads (its functions' bodies included) becomes needed in turn;
3. markdown cells are kept (they cost nothing and keep the copy readable).

Names bound by ``import`` are never "changed in place" by a call (``torch.manual_seed(0)`` or
``plt.show()`` would otherwise keep nearly every cell). Nor is a random generator named in
``RANDOM_STREAMS`` (``generator``): a cell that only advances it (``train(model,
generator=generator)`` for a model the explorers do not use) is left out. The explorers then
see other random numbers than in the full notebook (as they already do whenever an earlier
cell that draws from the stream is left out); they must work for any seed, which is what the
browser test checks, not that they reproduce the notebook's numbers (nbval's run does that).
The rule errs towards keeping cells: a dependency it cannot see (a function that changes a
global without naming it in the cell that calls it, through another function or an object)
usually shows up as an error in the browser test (a missing name or key).

Escape hatches, by cell tag: ``browser-keep`` keeps a cell whatever the rule says, and a
notebook whose metadata sets ``"ebm_browser": {"prune": false}`` is only truncated after its
last explorer cell (the behaviour before this rule); so does the environment variable
``EBM_BROWSER_PRUNE=0`` for every notebook.
"""

from __future__ import annotations

import ast
import os
import re

EXPLORER_CALL = re.compile(r"\bwidgets\.\w+_explorer\(")
KEEP_TAG = "browser-keep"
# seeded torch generators shared by a notebook's cells: advancing one is not a dependency
RANDOM_STREAMS = frozenset({"generator"})
# statement-level calls that only show or print their arguments
_DISPLAY_CALLS = {"print", "display", "len", "repr", "str", "format"}


def _python(source: str) -> str:
    """The cell as plain Python (IPython magics and shell escapes turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _root(node: ast.AST) -> str | None:
    """The name at the root of ``a.b[c].d`` (None for other expressions)."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _stored(node: ast.AST) -> set[str]:
    """Every name stored anywhere in ``node`` (arguments and nested definitions included)."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            out.add(sub.id)
        elif isinstance(sub, ast.arg):
            out.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in sub.names)
    return out


def _reads(node: ast.AST | None) -> set[str]:
    """Names ``node`` reads from the cell's globals: the local names of the functions,
    lambdas, classes and comprehensions inside it are left out. A function's body counts (it
    reads globals when called)."""
    if node is None:
        return set()
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        outer = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None),
                 *getattr(node, "decorator_list", [])]
        body = node.body if isinstance(node.body, list) else [node.body]
        declared = {n for sub in ast.walk(node) if isinstance(sub, ast.Global) for n in sub.names}
        inner = set().union(*(_reads(b) for b in body))
        local = set().union(*(_stored(b) for b in body)) | _stored(node.args)
        return set().union(*(_reads(o) for o in outer)) | (inner - (local - declared))
    if isinstance(node, ast.ClassDef):
        outer = [*node.bases, *node.decorator_list, *(k.value for k in node.keywords)]
        inner = set().union(*(_reads(b) for b in node.body))
        return set().union(*(_reads(o) for o in outer)) | (inner - _stored(ast.Module(
            body=node.body, type_ignores=[])))
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        targets = set().union(*(_stored(g.target) for g in node.generators))
        inner = set().union(*(_reads(c) for c in ast.iter_child_nodes(node)))
        return inner - targets
    return set().union(set(), *(_reads(c) for c in ast.iter_child_nodes(node)))


def _target_binds(target: ast.AST) -> tuple[set[str], set[str]]:
    """(names an assignment target binds, names whose item or attribute it changes)."""
    if isinstance(target, ast.Name):
        return {target.id}, set()
    if isinstance(target, (ast.Tuple, ast.List)):
        binds, changes = set(), set()
        for elt in target.elts:
            b, c = _target_binds(elt)
            binds |= b
            changes |= c
        return binds, changes
    if isinstance(target, ast.Starred):
        return _target_binds(target.value)
    root = _root(target)  # x[i] = ..., x.a = ...
    return set(), ({root} if root else set())


def _global_changes(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Globals a function may change in place: item or attribute assignments and method calls
    as statements on names that are not its own (``results[name] = ...``, ``log.append(x)``)."""
    local = _stored(ast.Module(body=func.body, type_ignores=[])) | _stored(func.args)
    roots = set()
    for sub in ast.walk(func):
        targets = []
        if isinstance(sub, (ast.Assign, ast.Delete)):
            targets = sub.targets
        elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)):
            targets = [sub.target]
        elif isinstance(sub, ast.Expr) and isinstance(sub.value, ast.Call) and \
                isinstance(sub.value.func, ast.Attribute):
            targets = [sub.value.func]
        roots |= {r for t in targets if not isinstance(t, ast.Name) and (r := _root(t))}
    return roots - local


class CellNames:
    """What one code cell binds, reads before binding, imports, and may change in place."""

    def __init__(self, source: str):
        self.binds: set[str] = set()
        self.reads: set[str] = set()  # read before the cell binds them
        self.imports: set[str] = set()
        self.changes: set[str] = set()  # may change in place, not bound earlier in the cell
        self.calls: set[str] = set()  # names of the functions it calls
        self.defines: dict[str, set[str]] = {}  # function -> globals it may change in place
        self._bound: set[str] = set()
        self._block(ast.parse(_python(source)).body)

    def _read(self, *nodes) -> None:
        for node in nodes:
            self.reads |= _reads(node) - self._bound

    def _bind(self, names: set[str]) -> None:
        self.binds |= names
        self._bound |= names

    def _change(self, names: set[str]) -> None:
        self.changes |= names - self._bound

    def _block(self, stmts) -> None:
        for stmt in stmts:
            self._statement(stmt)

    def _statement(self, stmt: ast.stmt) -> None:  # one branch per kind of statement
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._read(stmt.iter)
            binds, changes = _target_binds(stmt.target)
            self._change(changes)
            self._bind(binds)
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, (ast.While, ast.If)):
            self._read(stmt.test)
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self._read(item.context_expr)
                if item.optional_vars is not None:
                    self._bind(_target_binds(item.optional_vars)[0])
            self._block(stmt.body)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._block(stmt.body)
            for handler in stmt.handlers:
                self._read(handler.type)
                if handler.name:
                    self._bind({handler.name})
                self._block(handler.body)
            self._block(stmt.orelse)
            self._block(stmt.finalbody)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.reads |= _reads(stmt)  # a function reads globals when called: keep them all
            declared = {n for sub in ast.walk(stmt) if isinstance(sub, ast.Global)
                        for n in sub.names}
            self._bind({stmt.name} | declared)  # a function that rebinds a global binds it
            if not isinstance(stmt, ast.ClassDef):
                self.defines[stmt.name] = _global_changes(stmt) | declared
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = {(a.asname or a.name).split(".")[0] for a in stmt.names}
            self.imports |= names
            self._bind(names)
        elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            self._read(stmt.value)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                binds, changes = _target_binds(target)
                if isinstance(stmt, ast.AugAssign):  # x += ... reads x, and may change it
                    self._read(*(ast.Name(id=n, ctx=ast.Load()) for n in binds))
                    changes |= binds
                self._read(*(t for t in ast.walk(target) if isinstance(t, ast.Subscript)))
                self._change(changes)
                self._bind(binds)
        else:
            self._read(stmt)
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self._call_changes(stmt.value)
            if isinstance(stmt, ast.Delete):
                self._change({r for t in stmt.targets if (r := _root(t))})
        walrus = {n.target.id for n in ast.walk(stmt) if isinstance(n, ast.NamedExpr)}
        self._bind(walrus)
        self.calls |= {n.func.id for n in ast.walk(stmt)
                       if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}

    def _call_changes(self, call: ast.Call) -> None:
        """A call made as a statement may change the object whose method it is and the names
        it is passed (``model.train()``, ``fit(model, data)``); printing and showing do not.
        (An attribute passed, as in ``plot(ax, mix.score)``, is taken to be read only.)"""
        func = call.func
        if isinstance(func, ast.Attribute) and (root := _root(func)):
            self._change({root})
        if not (isinstance(func, ast.Name) and func.id in _DISPLAY_CALLS):
            self._change({a.id for a in [*call.args, *(k.value for k in call.keywords)]
                          if isinstance(a, ast.Name)})


def cell_names(source: str) -> CellNames:
    """What one code cell binds, reads, imports and may change (raises SyntaxError)."""
    return CellNames(source)


def needed_cells(cells) -> list[int] | None:
    """Indices (into ``cells``, nbformat cells) of the cells to keep, ending with the last
    explorer cell; None when there is no explorer cell."""
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    explorers = [i for i in code if EXPLORER_CALL.search(cells[i].source)]
    if not explorers:
        return None
    last = explorers[-1]
    parsed = {i: cell_names(cells[i].source) for i in code if i <= last}
    imported = set().union(*(n.imports for n in parsed.values()))
    # a call of a notebook function may change the globals that function changes in place
    changed_by: dict[str, set[str]] = {}
    for i in sorted(parsed):
        changed_by.update(parsed[i].defines)
        for name in parsed[i].calls:
            parsed[i].changes |= changed_by.get(name, set())
    keep = set(explorers)
    needed: set[str] = set()
    for i in explorers:
        needed |= parsed[i].reads
    for i in reversed([i for i in code if i < last]):
        if i in keep:
            continue
        names = parsed[i]
        tagged = KEEP_TAG in cells[i].metadata.get("tags", [])
        if tagged or names.binds & needed or \
                (names.changes - imported - RANDOM_STREAMS) & needed:
            keep.add(i)
            needed |= names.reads
    keep |= {i for i, c in enumerate(cells[:last]) if c.cell_type != "code"}
    return sorted(keep)


def prune(nb) -> list[int]:
    """Cut ``nb`` (an nbformat notebook, changed in place) down to what its explorers need;
    returns the indices kept. Without pruning (see the module doc) the notebook is truncated
    after its last explorer cell. Raises ValueError if it has no explorer cell."""
    keep = needed_cells(nb.cells)
    if keep is None:
        raise ValueError("the notebook has no cell that builds an explorer "
                         "(a call widgets.<name>_explorer(...))")
    enabled = os.environ.get("EBM_BROWSER_PRUNE", "1") != "0" and \
        nb.metadata.get("ebm_browser", {}).get("prune", True)
    if not enabled:
        keep = list(range(keep[-1] + 1))
    nb.cells = [nb.cells[i] for i in keep]
    return keep
