"""Tiny random models, real tokenizers and small legal data sets built inside the fine-tuning tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

CHARGES = {
    "盗窃": ["被告人趁无人之机窃取被害人手机一部", "被告人秘密窃取超市商品", "被告人盗走他人电动车一辆"],
    "诈骗": ["被告人虚构事实骗取被害人钱款", "被告人冒充客服诈骗他人财物", "被告人以投资为名骗取人民币"],
    "危险驾驶": ["被告人醉酒驾驶机动车在道路上行驶", "被告人酒后驾驶汽车被查获", "被告人醉酒驾驶摩托车"],
}
PLACES = ["在某市某区", "在某县城内", "在某小区门口", "在某商场附近"]
TAILS = ["，经鉴定价值人民币三千元。", "，后被公安机关抓获。", "，归案后如实供述。", "，已赔偿被害人损失并取得谅解。"]


def make_cases(count: int, seed: int) -> list[dict]:
    """Return facts with a charge, a multi-label list and a prison term in months."""
    rng = random.Random(seed)
    names = sorted(CHARGES)
    cases = []
    for index in range(count):
        charge = names[index % len(names)]
        fact = rng.choice(PLACES) + "，" + rng.choice(CHARGES[charge]) + rng.choice(TAILS)
        labels = [charge]
        if rng.random() < 0.3:
            other = names[(names.index(charge) + 1) % len(names)]
            fact += rng.choice(CHARGES[other])
            labels.append(other)
        months = {"盗窃": 8, "诈骗": 24, "危险驾驶": 3}[charge] + rng.randint(0, 4)
        cases.append({"text": fact, "label": charge, "labels": labels, "months": months})
    return cases


def make_instructions(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for index in range(count):
        charge = sorted(CHARGES)[index % len(CHARGES)]
        items.append({"instruction": "请根据案情判断罪名。", "question": rng.choice(CHARGES[charge]),
                      "answer": f"罪名：{charge}罪"})
    return items


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return path


def corpus() -> list[str]:
    texts = [case["text"] for case in make_cases(60, 0)]
    texts += [item["instruction"] + item["question"] + item["answer"] for item in make_instructions(30, 0)]
    return texts


def build_bert(directory: Path) -> Path:
    """Save a 2-layer, 32-wide BERT with a WordPiece tokenizer trained on the test corpus."""
    import torch
    import transformers
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(handle_chinese_chars=True, lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tokenizer.train_from_iterator(corpus(), trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                             special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                                cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    fast.save_pretrained(directory)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(fast), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=128, pad_token_id=0)
    transformers.BertModel(config).save_pretrained(directory)
    return directory


def _bpe_tokenizer(directory: Path):
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(corpus(), trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                                unk_token="<unk>", pad_token="<pad>")
    fast.save_pretrained(directory)
    return fast


def build_gpt2(directory: Path) -> Path:
    """Save a 1-layer, 32-wide GPT-2 with a byte-level BPE tokenizer trained on the test corpus."""
    import torch
    import transformers

    fast = _bpe_tokenizer(directory)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(fast), n_positions=256, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=1, eos_token_id=2, pad_token_id=3)
    transformers.GPT2LMHeadModel(config).save_pretrained(directory)
    return directory


def build_gemma3(directory: Path) -> Path:
    """Save a 2-layer Gemma-3 text model (32 wide) with a byte-level BPE tokenizer."""
    import torch
    import transformers

    fast = _bpe_tokenizer(directory)
    torch.manual_seed(0)
    config = transformers.Gemma3TextConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64,
                                           num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                                           head_dim=16, max_position_embeddings=256, sliding_window=64,
                                           bos_token_id=1, eos_token_id=2, pad_token_id=3)
    transformers.Gemma3ForCausalLM(config).save_pretrained(directory)
    return directory


def base_config(model_dir: Path, run_dir: Path, train: Path, valid: Path, **sections) -> dict:
    """Return a small configuration: few steps, frequent evaluation, no progress bar noise."""
    config = {
        "task": "classification",
        "output_dir": str(run_dir),
        "model": {"path": str(model_dir), "max_length": 64},
        "data": {"train": str(train), "valid": str(valid)},
        "method": {"name": "full"},
        "training": {"max_steps": 30, "batch_size": 8, "learning_rate": 1e-2, "eval_steps": 10, "save_steps": 10,
                     "logging_steps": 3, "seed": 7, "mixed_precision": "no"},
    }
    for name, value in sections.items():
        if isinstance(value, dict) and isinstance(config.get(name), dict):
            config[name] = {**config[name], **value}
        else:
            config[name] = value
    return config
