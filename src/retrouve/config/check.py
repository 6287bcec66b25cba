"""Messages for settings that cannot work: the key, where it came from, the nearest valid key.

Used by :class:`retrouve.config.Settings` to turn pydantic's ``ValidationError`` and unknown
``RETROUVE_*`` environment variables into one readable :class:`~retrouve.errors.ConfigError`
message, e.g. ``unknown setting 'analysis.sample_fsp' (environment variable
RETROUVE_ANALYSIS__SAMPLE_FSP): did you mean 'analysis.sample_fps'?``. Pure functions over the model
classes, so they hold for every section, present and future.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

#: Nested sections are separated by this in environment variable names.
ENV_DELIMITER = "__"


def section_of(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds (``X`` or ``X | None``), else None for a leaf value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = section_of(arg)
            if found is not None:
                return found
    return None


def _model_at(root: type[BaseModel], path: Sequence[str]) -> type[BaseModel] | None:
    """The section reached by following ``path`` from ``root``; None past a leaf."""
    model: type[BaseModel] | None = root
    for part in path:
        if model is None or part not in model.model_fields:
            return None
        model = section_of(model.model_fields[part].annotation)
    return model


def unknown_key(model: type[BaseModel] | None, path: Sequence[str], source: str) -> str:
    """``unknown setting 'a.b' (source): did you mean 'c'?`` (or the valid keys when none is
    near). ``path`` is the full dotted key; ``model`` the section that lacks its last part."""
    dotted = ".".join(path)
    where = f" ({source})" if source else ""
    valid = sorted(model.model_fields) if model is not None else []
    near = difflib.get_close_matches(path[-1], valid, n=1, cutoff=0.6)
    if near:
        suggestion = ".".join([*path[:-1], near[0]])
        return f"unknown setting {dotted!r}{where}: did you mean {suggestion!r}?"
    if valid:
        return f"unknown setting {dotted!r}{where}: valid keys here are {', '.join(valid)}"
    return f"unknown setting {dotted!r}{where}: {'.'.join(path[:-1])} is not a section"


def env_name(prefix: str, path: Sequence[str]) -> str:
    """The environment variable that sets ``path``: ``RETROUVE_ANALYSIS__SAMPLE_FPS``."""
    return prefix + ENV_DELIMITER.join(path).upper()


def unknown_env_settings(root: type[BaseModel], environ: Mapping[str, str], prefix: str,
                         allowed: frozenset[str]) -> list[str]:
    """One message per ``prefix`` environment variable (any case, like pydantic-settings) that
    names no setting of ``root`` and is not in ``allowed``. pydantic-settings itself silently
    skips unknown top-level names, hence this check."""
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(prefix) or upper in allowed:
            continue
        path = upper[len(prefix):].lower().split(ENV_DELIMITER)
        model: type[BaseModel] | None = root
        for depth, part in enumerate(path):
            if model is None or part not in model.model_fields:
                problems.append(unknown_key(model, path[:depth + 1],
                                            f"environment variable {name}"))
                break
            model = section_of(model.model_fields[part].annotation)
    return problems


def _source(path: Sequence[str], environ: Mapping[str, str], prefix: str,
            toml: Mapping[str, Any] | None, toml_name: str) -> str:
    """Where the value at ``path`` came from, as far as can be told afterwards."""
    wanted = env_name(prefix, path)
    for name in environ:
        if name.upper() == wanted:
            return f"environment variable {name}"
    node: Any = toml
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            break
        node = node[part]
    else:
        return f"settings file {toml_name}"
    return ""


def describe_validation_error(exc: ValidationError, root: type[BaseModel],
                              environ: Mapping[str, str], prefix: str,
                              toml: Mapping[str, Any] | None, toml_name: str = "") -> str:
    """pydantic's errors as ``; ``-joined messages naming each key and its source (``toml``:
    the settings file's content, named ``toml_name``)."""
    messages = []
    for error in exc.errors():
        path = [str(p) for p in error["loc"]]
        source = _source(path, environ, prefix, toml, toml_name)
        if error["type"] == "extra_forbidden":
            messages.append(unknown_key(_model_at(root, path[:-1]), path, source))
            continue
        where = f" ({source})" if source else ""
        shown = "" if error["type"] == "missing" else f", got {error['input']!r}"
        messages.append(f"setting {'.'.join(path)!r}{where}: {error['msg']}{shown}")
    return "; ".join(messages)
