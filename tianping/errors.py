"""The exception tree of tianping.

Every error a user can cause derives from ``TianpingError``. It carries a
stable ``code`` for scripts and a Chinese ``message`` that names the value and
the fix; the CLI prints that message and exits with ``exit_code``.
"""

from __future__ import annotations


class TianpingError(Exception):
    """Base class of errors that are shown to users without a traceback."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}（{self.hint}）"
        return self.message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": str(self)}


class InvalidInputError(TianpingError, ValueError):
    """A value given by the user is malformed, empty or too large."""

    code = "invalid_input"
    exit_code = 2


class NotFoundError(TianpingError, LookupError):
    """A law, article or other named object does not exist."""

    code = "not_found"
    exit_code = 3


class ImportFailedError(TianpingError):
    """An import of statute data failed; the store was left unchanged."""

    code = "import_failed"
    exit_code = 4


class MissingDependencyError(TianpingError, ImportError):
    """An optional dependency is not installed."""

    code = "missing_dependency"
    exit_code = 5

    def __init__(self, package: str, extra: str, hint: str | None = None):
        super().__init__(
            f"缺少可选依赖 {package}",
            hint=hint or f'请运行 pip install "tianping[{extra}]"',
        )
        self.package = package
        self.extra = extra


def require(module: str, extra: str, package: str | None = None):
    """Import an optional module, or raise an error that names the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package or module, extra) from exc
