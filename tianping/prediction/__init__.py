"""Judgment prediction: charges, Criminal Law articles and prison term from the facts of a case."""

from tianping.prediction.model import (
    CasePrediction,
    JudgmentModel,
    create_model,
    load_model,
)

__all__ = ["CasePrediction", "JudgmentModel", "create_model", "load_model"]
