from __future__ import annotations

import importlib

import pytest

from monai_mammo.utils.deprecation import moved_names


def test_moved_names_warns_and_returns_the_new_object() -> None:
    getattr_, dir_ = moved_names(
        "old.place",
        {"loads": "json", "old_dumps": ("json", "dumps")},
        {"kept": 1, "__name__": "old.place"},
    )
    json = importlib.import_module("json")
    with pytest.warns(DeprecationWarning, match=r"old\.place\.loads is deprecated: use json\.loads instead"):
        assert getattr_("loads") is json.loads
    with pytest.warns(DeprecationWarning, match=r"old\.place\.old_dumps .*use json\.dumps instead"):
        assert getattr_("old_dumps") is json.dumps
    with pytest.raises(AttributeError, match="'old.place' has no attribute 'missing'"):
        getattr_("missing")
    assert dir_() == ["__name__", "kept", "loads", "old_dumps"]


@pytest.mark.parametrize(
    "module, name, new_module",
    [
        ("monai_mammo.bundle", "ExamReport", "monai_mammo.outputs.exam_report"),
        ("monai_mammo.data.preprocessed_cache", "item_key", "monai_mammo.data.cache_keys"),
        (
            "monai_mammo.inferers.sliding_window",
            "select_breast_windows",
            "monai_mammo.inferers.breast_windows",
        ),
    ],
)
def test_the_package_modules_use_it(module: str, name: str, new_module: str) -> None:
    old = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{name} is deprecated: use {new_module}\.{name}"):
        moved = getattr(old, name)
    assert moved is getattr(importlib.import_module(new_module), name)
    assert name in dir(old)
