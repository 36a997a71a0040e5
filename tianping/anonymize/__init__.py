"""Anonymisation (脱敏) of Chinese legal text.

Detects person names, resident ID numbers, phone numbers, bank card numbers,
e-mail addresses, street addresses, licence plates, birth dates, health data
and, optionally, organisation names, and masks them under a policy.

Entry points for other modules:

``mask_text(text, policy=None) -> str``
    Mask one document. Dataset loaders call it on each record before training,
    and LLM backends call it on questions and documents before sending them to
    a remote model.
``Anonymizer(policy).mask(text) -> MaskResult``
    The same, with the findings, replacements and pseudonyms.
``logging_filter(policy=None)``
    A ``logging.Filter`` for handlers of logs and audit records.
"""

from tianping.anonymize.detect import detect
from tianping.anonymize.findings import ENTITY_LABELS, ENTITY_TYPES, ROLES, Finding
from tianping.anonymize.logfilter import PersonalDataFilter, logging_filter
from tianping.anonymize.masker import Anonymizer, MaskResult, Replacement, mask_text, write_mapping
from tianping.anonymize.policy import Policy, builtin_policy, load_policy, resolve_policy
from tianping.anonymize.validators import id_check_char, is_valid_id18, luhn_valid

__all__ = [
    "Anonymizer",
    "ENTITY_LABELS",
    "ENTITY_TYPES",
    "Finding",
    "MaskResult",
    "PersonalDataFilter",
    "Policy",
    "ROLES",
    "Replacement",
    "builtin_policy",
    "detect",
    "id_check_char",
    "is_valid_id18",
    "load_policy",
    "logging_filter",
    "luhn_valid",
    "mask_text",
    "resolve_policy",
    "write_mapping",
]
