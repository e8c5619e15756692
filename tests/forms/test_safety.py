"""Static guarantees of the forms package: no dynamic code execution, no web or database imports."""
import ast
import subprocess
import sys
from pathlib import Path

import forms

SOURCE = Path(forms.__file__).parent
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "import_module", "execfile"}


def test_forms_source_never_calls_eval_exec_compile_or_import():
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else None
                if isinstance(func, ast.Attribute) and func.attr in FORBIDDEN_CALLS - {"compile"}:
                    name = func.attr
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                        and func.value.id == "builtins":
                    name = func.attr
                if name in FORBIDDEN_CALLS:
                    found.append(f"{path.name}:{node.lineno} {name}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any(m.split(".")[0] in ("importlib", "ctypes", "pickle", "subprocess") for m in modules)
    assert found == []
    assert len(list(SOURCE.rglob("*.py"))) >= 10


def test_importing_forms_pulls_in_no_flask_pony_or_app_packages():
    code = ("import sys, forms, forms.bench; forms.compile_form(forms.household_digital()); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'pony', 'server', 'sync', 'exports', "
            "'werkzeug', 'psycopg2')]; print(bad)")
    output = subprocess.run([sys.executable, "-c", code], cwd=SOURCE.parent, capture_output=True, text=True,
                            timeout=60, check=True).stdout
    assert output.strip() == "[]"


def test_public_api_is_exported():
    for name in ("load_form", "compile_form", "CompiledForm", "content_hash", "breaking_changes",
                 "household_digital", "errors"):
        assert hasattr(forms, name)
    assert issubclass(forms.errors.ExpressionError, forms.errors.FormError)
    assert issubclass(forms.errors.DefinitionError, forms.errors.FormError)
    assert {forms.errors.FormError.code, forms.errors.ExpressionError.code, forms.errors.DefinitionError.code,
            forms.errors.EvaluationError.code} == {"form_error", "expression_error", "definition_error",
                                                    "evaluation_error"}
