"""Particle selections: a small, safe expression language over per-particle columns.

A selection is a Python-like boolean expression such as::

    status == 1 and abs(pdgId) not in (12, 14, 16)
    pt > 0.5 and abs(eta) < 2.5 and charge != 0

evaluated element-wise on the particles' columns: the branches of the collection
(``status``, ``pdgId``, ``charge``, ... — names match case-insensitively, so
``status`` finds Delphes' ``Status``), and always ``pt``, ``eta`` (pseudorapidity),
``rapidity``, ``phi``, ``mass`` and ``E`` computed from the four-momenta.

Allowed: numbers, column names, ``and``/``or``/``not``, comparisons (chained too)
including ``in``/``not in`` a tuple or list of numbers, ``+ - * / **``, unary ``-``,
and the functions ``abs``, ``sqrt``, ``log``, ``exp``, ``sinh``, ``cosh``, ``min``, ``max``.
Anything else (attributes, subscripts, other calls, strings) is refused when the expression is parsed:
nothing is passed to ``eval``.

:class:`Selection` also carries pT and |η| ranges (``pt_min``, ``pt_max``,
``abs_eta_max``), combined with the expression by ``and``.
"""

from __future__ import annotations

import ast
import math

import numpy as np

__all__ = ["Selection", "parse_selection", "DERIVED"]

DERIVED = ("pt", "eta", "rapidity", "phi", "mass", "E")  # always available, from the four-momenta

_FUNCS = {"abs": np.abs, "sqrt": np.sqrt, "log": np.log, "exp": np.exp, "sinh": np.sinh, "cosh": np.cosh,
          "min": np.minimum, "max": np.maximum}
_CMP = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
        ast.GtE: np.greater_equal}
_BIN = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide, ast.Pow: np.power}


def _number(node, text):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _number(node.operand, text)
        return -v if isinstance(node.op, ast.USub) else v
    raise ValueError(f"selection {text!r}: 'in' needs a tuple or list of numbers, e.g. abs(pdgId) in (12, 14, 16)")


def _check(node, text):
    """Refuse every node outside the allowed grammar (before anything is evaluated); returns the names used."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            names.add(n.id)
        elif isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name) or n.func.id not in _FUNCS or n.keywords:
                raise ValueError(f"selection {text!r}: only the functions {', '.join(_FUNCS)} may be called")
            two = n.func.id in ("min", "max")
            if len(n.args) != (2 if two else 1):
                raise ValueError(f"selection {text!r}: {n.func.id}() takes "
                                 f"{'two arguments' if two else 'one argument'}")
        elif isinstance(n, ast.Constant):
            if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
                raise ValueError(f"selection {text!r}: only numbers may appear as constants, got {n.value!r}")
        elif isinstance(n, ast.Compare):
            for op, right in zip(n.ops, n.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    if not isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                        raise ValueError(f"selection {text!r}: 'in' needs a tuple or list of numbers")
                    for e in right.elts:
                        _number(e, text)
                elif type(op) not in _CMP:
                    raise ValueError(f"selection {text!r}: comparison {type(op).__name__} is not allowed")
        elif isinstance(n, ast.BinOp):
            if type(n.op) not in _BIN:
                raise ValueError(f"selection {text!r}: operator {type(n.op).__name__} is not allowed")
        elif isinstance(n, ast.UnaryOp):
            if not isinstance(n.op, (ast.Not, ast.USub, ast.UAdd)):
                raise ValueError(f"selection {text!r}: operator {type(n.op).__name__} is not allowed")
        elif isinstance(n, (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Load, ast.Tuple, ast.List, ast.Set,
                            ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Not,
                            ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            pass
        else:
            raise ValueError(f"selection {text!r}: {type(n).__name__} is not allowed (numbers, column names, "
                             "and/or/not, comparisons, in (...), + - * / **, abs() and a few math functions)")
    return names - set(_FUNCS)


def parse_selection(text):
    """The checked syntax tree of a selection expression.

    Raises:
        ValueError: a syntax error or a construct outside the allowed grammar (see the module docs).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a selection must be a non-empty expression string, got {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"selection {text!r} is not a valid expression: {err.msg}") from None
    _check(tree, text)
    return tree


class _Eval:
    def __init__(self, text, columns):
        self.text, self.columns = text, columns

    def __call__(self, n):
        if isinstance(n, ast.Expression):
            return self(n.body)
        if isinstance(n, ast.Constant):
            return n.value
        if isinstance(n, ast.Name):
            return self.columns(n.id)
        if isinstance(n, ast.BoolOp):
            vals = [self._bool(v) for v in n.values]
            f = np.logical_and if isinstance(n.op, ast.And) else np.logical_or
            out = vals[0]
            for v in vals[1:]:
                out = f(out, v)
            return out
        if isinstance(n, ast.UnaryOp):
            v = self(n.operand)
            if isinstance(n.op, ast.Not):
                return np.logical_not(self._bool(n.operand))
            return np.negative(v) if isinstance(n.op, ast.USub) else v
        if isinstance(n, ast.BinOp):
            with np.errstate(all="ignore"):
                return _BIN[type(n.op)](self(n.left), self(n.right))
        if isinstance(n, ast.Call):
            with np.errstate(all="ignore"):
                return _FUNCS[n.func.id](*[self(a) for a in n.args])
        if isinstance(n, ast.Compare):
            left = self(n.left)
            out = True
            for op, right in zip(n.ops, n.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    vals = [_number(e, self.text) for e in right.elts]
                    r = np.isin(left, vals)
                    r = ~r if isinstance(op, ast.NotIn) else r
                    out = np.logical_and(out, r)
                    continue
                rv = self(right)
                out = np.logical_and(out, _CMP[type(op)](left, rv))
                left = rv
            return out
        raise ValueError(f"selection {self.text!r}: {type(n).__name__} is not allowed")  # _check refused it already

    def _bool(self, n):
        v = self(n)
        if np.asarray(v).dtype != bool:
            raise ValueError(f"selection {self.text!r}: {ast.unparse(n)!r} is a number, not a condition; "
                             "compare it (e.g. status == 1)")
        return v


class Selection:
    """Which particles to keep: an expression over the particle columns and pT / |η| ranges.

    Args:
        expr: a boolean expression (see :mod:`apps.jets.io.select`), or None.
        pt_min, pt_max: keep ``pt_min <= pt <= pt_max`` (GeV; None: no bound).
        abs_eta_max: keep ``|η| <= abs_eta_max`` (pseudorapidity; None: no bound).

    Raises:
        ValueError: an expression outside the grammar, or a bound that is not a finite
            number (``pt_min`` ≥ 0, ``abs_eta_max`` > 0, ``pt_max`` ≥ ``pt_min``).
    """

    def __init__(self, expr=None, pt_min=None, pt_max=None, abs_eta_max=None):
        self.expr = expr.strip() if isinstance(expr, str) else expr
        self._tree = parse_selection(expr) if expr is not None else None
        for name, v, lo in (("pt_min", pt_min, 0.0), ("pt_max", pt_max, 0.0), ("abs_eta_max", abs_eta_max, 0.0)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))
                                  or not math.isfinite(float(v)) or float(v) < lo
                                  or (name == "abs_eta_max" and float(v) == 0.0)):
                raise ValueError(f"{name} must be a finite number {'> 0' if name == 'abs_eta_max' else '>= 0'}, "
                                 f"got {v!r}")
        if pt_min is not None and pt_max is not None and pt_max < pt_min:
            raise ValueError(f"pt_max ({pt_max}) must be >= pt_min ({pt_min})")
        self.pt_min, self.pt_max, self.abs_eta_max = pt_min, pt_max, abs_eta_max

    @classmethod
    def of(cls, select):
        """A :class:`Selection` from None, an expression string or a Selection."""
        if select is None or isinstance(select, Selection):
            return select
        return cls(select)

    def __bool__(self):
        return any(v is not None for v in (self._tree, self.pt_min, self.pt_max, self.abs_eta_max))

    def names(self):
        """The column names the expression uses."""
        return _check(self._tree, self.expr) if self._tree is not None else set()

    def describe(self):
        """The whole selection as one expression string (for metadata and messages)."""
        parts = [f"({self.expr})"] if self.expr else []
        if self.pt_min is not None:
            parts.append(f"pt >= {self.pt_min:g}")
        if self.pt_max is not None:
            parts.append(f"pt <= {self.pt_max:g}")
        if self.abs_eta_max is not None:
            parts.append(f"abs(eta) <= {self.abs_eta_max:g}")
        return " and ".join(parts)

    def mask(self, columns):
        """Boolean mask over flat particle arrays.

        Args:
            columns: a function of a column name returning a flat NumPy array (raising
                ``KeyError`` for an unknown name), see :func:`apps.jets.io.records.to_padded`.

        Raises:
            ValueError: an unknown column (names those available), or an expression that is not a condition.
        """
        out = True
        if self._tree is not None:
            v = _Eval(self.expr, columns)._bool(self._tree.body)
            out = np.logical_and(out, v)
        with np.errstate(invalid="ignore"):
            if self.pt_min is not None:
                out = np.logical_and(out, columns("pt") >= self.pt_min)
            if self.pt_max is not None:
                out = np.logical_and(out, columns("pt") <= self.pt_max)
            if self.abs_eta_max is not None:
                out = np.logical_and(out, np.abs(columns("eta")) <= self.abs_eta_max)
        return out

    def __repr__(self):
        return f"Selection({self.describe()!r})"
