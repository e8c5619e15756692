"""The form engine: definition language, expressions, submission validation, indicators.

Pure Python (marshmallow, PyYAML, stdlib); it never imports Flask, Pony or the server.
"""
from . import errors
from .compiled import CompiledForm, Result, compile_form
from .default import household_digital
from .definition import load_form
from .evaluate import compile_expression, evaluate
from .versioning import breaking_changes, content_hash, next_version

__all__ = ["load_form", "compile_form", "CompiledForm", "Result", "content_hash", "breaking_changes",
           "next_version", "household_digital", "compile_expression", "evaluate", "errors"]
