"""Is a sampled solution's final answer the reference answer? (MATH-style problems.)

The final answer is read from the last ``\\boxed{...}`` (or ``\\fbox{...}``), else from
the last "answer is X" / "Answer: X" / "#### X". Equivalence is decided by
``math_verify`` when it is installed, else by ``sympy`` (the difference of the two
expressions simplifies to zero; tuples and sets element by element). Plain text
equality is used only for answers neither can parse (a name, a word), after
normalising whitespace, case and LaTeX spacing, and the check records which method
decided.

Text from a model is never evaluated as Python: before sympy sees an answer it is
translated from a small LaTeX subset and rejected unless it is made only of numbers,
operators, brackets, single-letter symbols and a few known function names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Longest answer (characters) handed to sympy; longer ones are compared as text.
MAX_SYMPY_CHARS = 200

_ANSWER_IS = re.compile(
    r"(?:final answer|the answer|answer)\s*(?:is|:|=)\s*:?\s*(.+?)(?:\.\s|\.$|\n|$)", re.IGNORECASE | re.DOTALL
)
_HASHES = re.compile(r"####\s*(.+?)\s*(?:\n|$)")
_FUNCS = ("sqrt", "pi", "log", "ln", "exp", "sin", "cos", "tan", "oo", "E", "I")
_SAFE = re.compile(r"^[0-9a-zA-Z+\-*/^().,\s]*$")


@dataclass(frozen=True)
class Check:
    """The verdict on one sampled answer: ``correct`` is None when no final answer was found."""

    answer: str | None
    correct: bool | None
    method: str  # "math_verify", "sympy", "text", or "no_answer"

    def as_dict(self) -> dict[str, object]:
        return {"answer": self.answer, "correct": self.correct, "method": self.method}


def _braced(text: str, start: int) -> str | None:
    """The content of the ``{...}`` group opening at ``text[start]`` (balanced braces)."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None


def extract_final_answer(text: str) -> str | None:
    """The final answer of a solution, or None when it states none."""
    for macro in ("\\boxed", "\\fbox"):
        at = text.rfind(macro + "{")
        if at >= 0:
            inner = _braced(text, at + len(macro))
            if inner is not None and inner.strip():
                return inner.strip()
    hashes = _HASHES.findall(text)
    if hashes:
        return hashes[-1].strip()
    found = _ANSWER_IS.findall(text)
    if found:
        answer = found[-1].strip().strip("$ ").rstrip(".")
        return answer or None
    return None


def _strip_latex(text: str) -> str:
    """A LaTeX answer in plain form: no ``$``, ``\\left``/``\\right``, ``\\text{}``, units of spacing."""
    s = text.strip().strip("$").strip()
    s = re.sub(r"\\(?:text|textbf|mathrm|mbox|operatorname)\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\(?:left|right|displaystyle|!|,|;|:| )", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("\\%", "").replace("%", "")
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/")
    return s.strip()


def _latex_to_expr(text: str) -> str | None:
    """A sympy-parsable expression for a small LaTeX subset, or None."""
    s = _strip_latex(text)
    for _ in range(10):  # nested \frac / \sqrt, innermost first
        new = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        new = re.sub(r"\\frac(\d)(\d)", r"((\1)/(\2))", new)
        new = re.sub(r"\\sqrt\[([^{}\]]*)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", new)
        new = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", new)
        new = re.sub(r"\\sqrt(\d+)", r"sqrt(\1)", new)
        new = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", new)
        if new == s:
            break
        s = new
    s = s.replace("\\pi", " pi ").replace("\\infty", " oo ").replace("\\ln", " log ").replace("\\log", " log ")
    s = s.replace("{", "(").replace("}", ")").replace("^", "**")
    s = re.sub(r"(?<=\d),(?=\d{3}(?:\D|$))", "", s)  # 1,000 -> 1000
    if "\\" in s or not _SAFE.match(s):
        return None
    words = set(re.findall(r"[A-Za-z]{2,}", s))
    if words - set(_FUNCS):
        return None
    return s.strip() or None


def _split_items(text: str) -> list[str]:
    """``(1, 2)`` / ``\\{1,2\\}`` / ``1, 2`` -> its items (one item when there is no top-level comma)."""
    s = text.strip()
    s = re.sub(r"^\\\{(.*)\\\}$", r"\1", s)
    if len(s) >= 2 and s[0] in "([" and s[-1] in ")]":
        s = s[1:-1]
    items, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return [i.strip() for i in items]


def _sympy_equal(a: str, b: str) -> bool | None:
    """True/False when sympy can decide, None when either side does not parse."""
    if len(a) > MAX_SYMPY_CHARS or len(b) > MAX_SYMPY_CHARS:
        return None
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)

    def parse(text: str):
        expr = _latex_to_expr(text)
        if expr is None:
            return None
        try:
            return parse_expr(expr, transformations=transformations, evaluate=True)
        except Exception:  # sympy raises many kinds of errors on odd input
            return None

    left, right = parse(a), parse(b)
    if left is None or right is None:
        return None
    try:
        diff = sympy.simplify(left - right)
        if diff == 0:
            return True
        if diff.is_number:
            return bool(abs(complex(sympy.N(diff))) < 1e-9 * max(1.0, abs(complex(sympy.N(right)))))
        return False
    except Exception:
        return None


def _text_form(text: str) -> str:
    return re.sub(r"\s+", "", _strip_latex(text)).lower().rstrip(".")


def _math_verify(candidate: str, reference: str) -> bool | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    try:
        gold = parse(f"${reference}$")
        pred = parse(f"${candidate}$")
        if not gold or not pred:
            return None
        return bool(verify(gold, pred))
    except Exception:
        return None


def answers_match(candidate: str, reference: str) -> tuple[bool, str]:
    """Whether two final answers are the same value, and which method decided."""
    verdict = _math_verify(candidate, reference)
    if verdict is not None:
        return verdict, "math_verify"
    left, right = _split_items(candidate), _split_items(reference)
    if len(left) == len(right) and len(left) > 1:
        results = [_sympy_equal(x, y) for x, y in zip(left, right, strict=True)]
        if all(r is not None for r in results):
            return all(results), "sympy"
    else:
        result = _sympy_equal(candidate, reference)
        if result is not None:
            return result, "sympy"
    return _text_form(candidate) == _text_form(reference), "text"


def check_solution(solution: str, reference: str) -> Check:
    """Read a solution's final answer and compare it with ``reference`` (itself boxed or plain)."""
    answer = extract_final_answer(solution)
    if answer is None:
        return Check(None, None, "no_answer")
    ref = extract_final_answer(reference) if "\\boxed" in reference else reference
    correct, method = answers_match(answer, ref or reference)
    return Check(answer, correct, method)
