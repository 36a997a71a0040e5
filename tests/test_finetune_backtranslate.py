"""Back-translation through a Python function and through an OpenAI-compatible server on 127.0.0.1."""

import json
import shutil

import pytest

from finetune_helpers import base_config, build_bert, make_cases, write_jsonl
from llm_server import ScriptedLLM
from tianping.errors import InvalidInputError
from tianping.finetune.backtranslate import CACHE_NAME, back_translate, check_paraphrase
from tianping.finetune.config import parse_config

# Texts passed to reverse_clauses, one list per call.
CALLS: list[list[str]] = []


def reverse_clauses(texts):
    """Return each text with its comma-separated clauses in reverse order; texts with 醉酒 get an empty string."""
    CALLS.append(list(texts))
    answers = []
    for text in texts:
        if "醉酒" in text:
            answers.append("")
        else:
            answers.append("，".join(reversed(text.rstrip("。").split("，"))) + "。")
    return answers


def wrong_length(texts):
    return texts[:-1]


def _settings(**values):
    raw = {"task": "classification", "output_dir": "runs/x", "data": {"train": "train.jsonl"},
           "augment": {"back_translation": values}}
    return parse_config(raw).augment.back_translation


def test_check_paraphrase_reasons():
    assert check_paraphrase("被告人窃取手机", "被告人偷了手机", 0.5, 2.0) == "accepted"
    assert check_paraphrase("被告人窃取手机", "  ", 0.5, 2.0) == "empty"
    assert check_paraphrase("被告人窃取手机", "被告人窃取手机 ", 0.5, 2.0) == "identical"
    assert check_paraphrase("被告人窃取手机", "窃取", 0.5, 2.0) == "length_ratio"
    assert check_paraphrase("被告人窃取手机", "被告人窃取手机" * 3, 0.5, 2.0) == "length_ratio"
    assert check_paraphrase("被告人窃取手机", None, 0.5, 2.0) == "not_text"


@pytest.mark.parametrize("values, field", [
    ({"translator": "google"}, "augment.back_translation.translator"),
    ({"translator": "function"}, "augment.back_translation.function"),
    ({"translator": "function", "function": "no_colon"}, "augment.back_translation.function"),
    ({"translator": "openai"}, "augment.back_translation.base_url"),
    ({"translator": "openai", "base_url": "127.0.0.1:8000"}, "augment.back_translation.base_url"),
    ({"translator": "function", "function": "m:f", "min_length_ratio": 1.5}, "augment.back_translation.min_length_ratio"),
])
def test_config_rejects_bad_translator(values, field):
    with pytest.raises(InvalidInputError) as caught:
        _settings(**values)
    assert field in str(caught.value)


def test_function_translator_counts_rejections():
    CALLS.clear()
    settings = _settings(translator="function", function="test_finetune_backtranslate:reverse_clauses", batch_size=2)
    texts = ["被告人在某市，窃取手机一部。", "被告人醉酒驾驶，被查获。", "被告人认罪。", "被告人在某市，窃取手机一部。"]
    produced, entries, counts = back_translate(texts, settings)
    assert CALLS == [texts[:2], texts[2:3]]
    assert produced == [(0, "窃取手机一部，被告人在某市。"), (3, "窃取手机一部，被告人在某市。")]
    assert counts == {"accepted": 2, "rejected": 2, "rejected_by_reason": {"empty": 1, "identical": 1},
                      "from_cache": 0}
    assert [entry["status"] for entry in entries] == ["accepted", "empty", "identical"]

    CALLS.clear()
    cache = {entry["text"]: entry["paraphrase"] for entry in entries}
    again = back_translate(texts, settings, cache)
    assert CALLS == []
    assert again[0] == produced
    assert again[2]["from_cache"] == 3


def test_translator_with_wrong_length_is_rejected():
    settings = _settings(translator="function", function="test_finetune_backtranslate:wrong_length")
    with pytest.raises(InvalidInputError) as caught:
        back_translate(["被告人在某市，窃取手机一部。", "被告人认罪。"], settings)
    assert "返回了 1 条结果" in str(caught.value)


def test_missing_translator_module():
    settings = _settings(translator="function", function="tianping_no_such_module:translate")
    with pytest.raises(InvalidInputError) as caught:
        back_translate(["被告人在某市，窃取手机一部。"], settings)
    assert "tianping_no_such_module" in str(caught.value)


def test_chat_translator_round_trip():
    with ScriptedLLM() as server:
        server.reply("The defendant stole a phone in a city.")
        server.reply("被告人在某市偷了一部手机。")
        server.reply("The defendant confessed.")
        server.reply("被告人认罪。")
        settings = _settings(translator="openai", base_url=server.base_url, model="translator",
                             pivot_language="English")
        produced, entries, counts = back_translate(["被告人在某市窃取手机一部。", "被告人认罪。"], settings)
    assert produced == [(0, "被告人在某市偷了一部手机。")]
    assert counts["rejected_by_reason"] == {"identical": 1}
    assert len(server.requests) == 4
    first, second = server.requests[0]["body"], server.requests[1]["body"]
    assert first["model"] == "translator"
    assert first["temperature"] == 0.0
    assert "into English" in first["messages"][-1]["content"]
    assert "被告人在某市窃取手机一部。" in first["messages"][-1]["content"]
    assert "into Chinese" in second["messages"][-1]["content"]
    assert "The defendant stole a phone in a city." in second["messages"][-1]["content"]


def test_resumed_run_reuses_cached_paraphrases(tmp_path):
    pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")
    pytest.importorskip("peft", reason="needs the finetune extra: pip install 'tianping[finetune]'")
    from tianping.finetune import engine

    model_dir = build_bert(tmp_path / "bert")
    train = write_jsonl(tmp_path / "train.jsonl", make_cases(24, 1))
    valid = write_jsonl(tmp_path / "valid.jsonl", make_cases(8, 2))
    run_dir = tmp_path / "run"
    raw = base_config(model_dir, run_dir, train, valid, method={"name": "lora"},
                      training={"max_steps": 4, "eval_steps": 2, "save_steps": 2, "save_total_limit": 3},
                      augment={"back_translation": {"translator": "function",
                                                    "function": "test_finetune_backtranslate:reverse_clauses"}})
    CALLS.clear()
    first = engine.run(parse_config(raw), progress=False)
    assert len(CALLS) == 2
    assert sum(len(batch) for batch in CALLS) == len({case["text"] for case in make_cases(24, 1)})
    counts = first["data"]["back_translation"]
    drunk = sum("醉酒" in case["text"] for case in make_cases(24, 1))
    assert counts["rejected_by_reason"].get("empty", 0) == drunk
    assert counts["accepted"] == 24 - counts["rejected"]
    assert first["data"]["train_augmented"] == counts["accepted"]
    cached = [json.loads(line) for line in (run_dir / CACHE_NAME).read_text(encoding="utf-8").splitlines()]
    assert sum(entry["status"] == "accepted" for entry in cached) == counts["accepted"]

    # Remove the last checkpoint and the results, as if the run had been killed after step 2.
    shutil.rmtree(run_dir / "checkpoints" / "checkpoint-4")
    (run_dir / "summary.json").unlink()
    CALLS.clear()
    resumed = engine.resume(run_dir, progress=False)
    assert CALLS == []
    assert resumed["resumed_from"].endswith("checkpoint-2")
    assert resumed["data"]["back_translation"]["from_cache"] == len(cached)
    assert resumed["data"]["train_augmented"] == first["data"]["train_augmented"]
    stable = ("runtime", "samples_per_second", "steps_per_second")
    assert {k: v for k, v in resumed["final_metrics"].items() if k not in stable} == pytest.approx(
        {k: v for k, v in first["final_metrics"].items() if k not in stable}, abs=1e-6)
