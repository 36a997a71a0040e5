"""A logging filter that masks personal data in log messages."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from tianping.anonymize.masker import Anonymizer
from tianping.anonymize.policy import Policy, builtin_policy

_state = threading.local()

# Shown in place of a message that could not be masked, so the original never reaches a handler.
MASKING_FAILED = "[日志消息脱敏失败，原文已隐去]"


class PersonalDataFilter(logging.Filter):
    """Mask personal data in each record's formatted message before handlers see it.

    The message is formatted with its arguments, masked, and stored back in
    ``record.msg`` with ``record.args`` cleared. Exception tracebacks are not
    masked. The filter never drops a record. An exception from formatting or
    masking is caught, and the message is replaced by a fixed notice.
    """

    def __init__(self, policy: "Policy | str | Path | dict | None" = None, name: str = ""):
        super().__init__(name)
        self.anonymizer = Anonymizer(policy if policy is not None else builtin_policy("strict"))

    def filter(self, record: logging.LogRecord) -> bool:
        # Masking can log (the model loader does); such records pass unmasked instead of re-entering the masker.
        if getattr(_state, "masking", False):
            return True
        _state.masking = True
        try:
            message = record.getMessage()
            record.msg = self.anonymizer.mask(message).text
        except Exception:  # noqa: BLE001 - a log call must not fail, and the unmasked text must not leak
            record.msg = MASKING_FAILED
        finally:
            _state.masking = False
        record.args = None
        return True


def logging_filter(policy: "Policy | str | Path | dict | None" = None) -> PersonalDataFilter:
    """Return a filter to attach to log handlers; the default policy is ``strict``.

    Attach it to handlers, not loggers, so records from child loggers pass through it::

        handler.addFilter(tianping.anonymize.logging_filter())
    """
    return PersonalDataFilter(policy)
