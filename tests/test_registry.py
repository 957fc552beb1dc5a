"""One registry for benchmarks, formats and backends: name -> module, imported on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

from j1eval.errors import InputError
from j1eval.registry import Registry


def test_a_module_is_imported_only_when_its_name_is_first_asked_for():
    code = (
        "import sys\n"
        "from j1eval.backends import BACKENDS, get_backend_class\n"
        "from j1eval.benchmarks import BENCHMARKS, get_benchmark\n"
        "from j1eval.formats import FORMATS, get_format\n"
        "lazy = ['j1eval.backends.vllm_backend', 'j1eval.backends.openai_backend', 'j1eval.benchmarks.ppe',"
        " 'j1eval.formats.pointwise', 'j1eval.backends.baseline', 'j1eval.benchmarks.judgebench']\n"
        "assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]\n"
        "assert 'vllm' in BACKENDS.names() and 'ppe' in BENCHMARKS.names() and 'pointwise' in FORMATS.names()\n"
        "assert get_backend_class('baseline').name == 'baseline' and get_benchmark('judgebench').name == 'judgebench'\n"
        "assert get_format('pointwise').name == 'pointwise'\n"
        "assert 'j1eval.backends.baseline' in sys.modules and 'j1eval.backends.vllm_backend' not in sys.modules\n"
        "assert 'j1eval.benchmarks.ppe' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_unknown_names_say_what_is_known_with_a_did_you_mean():
    registry: Registry[type] = Registry("widget", {"gadget": "j1eval.no_such_module"})
    registry.register("gizmo")(int)
    assert registry.names() == ["gadget", "gizmo"] and "gadget" in registry
    with pytest.raises(InputError, match=r"^unknown widget 'gizmos' \(did you mean 'gizmo'\?\); known: gadget, gizmo$"):
        registry.get("gizmos")
    with pytest.raises(InputError, match=r"^unknown widget 'zzz'; known: gadget, gizmo$"):
        registry.get("zzz")
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("gizmo")(str)


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [
        ("backend", "vlm", "unknown backend 'vlm' (did you mean 'vllm'?); known: baseline, hf, openai, rm, vllm"),
        ("benchmark", "judgbench", "unknown benchmark 'judgbench' (did you mean 'judgebench'?)"),
        ("format", "pointwize", "unknown format 'pointwize' (did you mean 'pointwise'?)"),
    ],
)
def test_each_kind_refuses_an_unknown_name_in_one_line(kind, name, message):
    from j1eval.backends import get_backend_class
    from j1eval.benchmarks import get_benchmark
    from j1eval.formats import get_format

    get = {"backend": get_backend_class, "benchmark": get_benchmark, "format": get_format}[kind]
    with pytest.raises(InputError) as info:
        get(name)
    assert message in str(info.value) and "\n" not in str(info.value)
