"""The local transformers backend, on a tiny random GPT-2 and tokenizer built inside the test."""

import pytest

from lawtexts import build_store
from tianping.generation import GenerationParams, GroundedAnswerer, TransformersBackend
from tianping.generation.backends import BackendError
from tianping.retrieval import ArticleIndex, LegalSearch

transformers = pytest.importorskip("transformers", reason="needs the llm extra: pip install torch==2.13.0 'tianping[llm]'")
torch = pytest.importorskip("torch", reason="needs torch: pip install torch==2.13.0")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    directory = tmp_path_factory.mktemp("tiny-gpt2")
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(["依照《中华人民共和国民法典》第五百七十七条，当事人应当承担违约责任。",
                                   "醉酒驾驶机动车的，吊销机动车驾驶证。"], trainer)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                                unk_token="<unk>", pad_token="</s>")
    fast.save_pretrained(directory)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(fast), n_positions=1024, n_embd=32, n_layer=1, n_head=2,
                                     bos_token_id=1, eos_token_id=2)
    transformers.GPT2LMHeadModel(config).save_pretrained(directory)
    return directory


def test_generate_returns_text(tiny_model_dir):
    backend = TransformersBackend(str(tiny_model_dir), params=GenerationParams(max_tokens=8, temperature=0.0))
    first = backend.generate([{"role": "user", "content": "违约怎么办"}])
    second = backend.generate([{"role": "user", "content": "违约怎么办"}])
    assert isinstance(first, str)
    assert first == second


def test_grounded_answer_with_local_model(tiny_model_dir, tmp_path):
    store = build_store(tmp_path)
    searcher = LegalSearch(store, ArticleIndex(store, tmp_path / "index"))
    backend = TransformersBackend(str(tiny_model_dir), params=GenerationParams(max_tokens=8, temperature=0.0))
    result = GroundedAnswerer(searcher, backend, top_k=1).answer("醉酒驾驶机动车怎么处罚").to_dict()
    assert result["answer_mode"] == "llm"
    assert all(citation["valid"] or citation["action"] != "kept" for citation in result["citations"])


def test_prompt_over_context_falls_back(tiny_model_dir, tmp_path):
    store = build_store(tmp_path)
    backend = TransformersBackend(str(tiny_model_dir), params=GenerationParams(max_tokens=1000, temperature=0.0))
    result = GroundedAnswerer(LegalSearch(store, ArticleIndex(store, tmp_path / "index")), backend).answer(
        "醉酒驾驶机动车怎么处罚").to_dict()
    assert result["answer_mode"] == "retrieval"
    assert any("超过模型的上下文长度 1024" in note for note in result["notes"])


def test_missing_model_directory(tmp_path):
    backend = TransformersBackend(str(tmp_path / "nowhere"))
    with pytest.raises(BackendError) as error:
        backend.generate([{"role": "user", "content": "你好"}])
    assert "无法加载本地模型" in str(error.value)
