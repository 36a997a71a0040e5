"""Fine-tuning of pretrained transformers for legal tasks: full, freezing and peft methods.

The configuration module imports nothing heavy, so configurations can be
validated without torch; training, export and the judgment adapter need the
``finetune`` extra.
"""

from tianping.finetune.config import RunConfig, load_config, parse_config

__all__ = ["RunConfig", "load_config", "parse_config"]
