"""The OpenAI chat completion format around grounded answers from ``tianping.api.ask``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

from tianping.errors import InvalidInputError, NotFoundError
from tianping.generation.dialogue import extract_facts, facts_context, merge_facts
from tianping.service.schemas import ChatCompletionRequest, ChatMessage

MODEL_ID = "tianping"
# Characters of the answer per streamed chunk. The answer is complete and
# checked before the first chunk is sent, because a citation can only be
# verified once the whole sentence is there.
STREAM_CHUNK_CHARS = 24


def message_text(message: ChatMessage) -> str:
    """Return the text of a message, joining the text parts of a multi-part content."""
    if message.content is None:
        return ""
    if isinstance(message.content, str):
        return message.content
    return "".join(part.text or "" for part in message.content if part.type == "text")


def question_and_context(request: ChatCompletionRequest) -> tuple[str, str, str]:
    """Return the question, the context and the topic of a chat completion request.

    The question is the last user message, the context the facts of earlier
    user messages, and the topic the user message before the question.
    """
    if request.model != MODEL_ID:
        raise NotFoundError(f"未知的模型：{request.model}", hint=f"可用的模型：{MODEL_ID}（见 /v1/models）")
    user_texts = [message_text(message).strip() for message in request.messages if message.role == "user"]
    user_texts = [text for text in user_texts if text]
    if not user_texts:
        raise InvalidInputError("messages 中没有用户提问", hint="请至少提供一条 role 为 user、content 非空的消息")
    facts: dict[str, list[str]] = {}
    for text in user_texts[:-1]:
        facts = merge_facts(facts, extract_facts(text))
    topic = user_texts[-2] if len(user_texts) > 1 else ""
    return user_texts[-1], facts_context(facts), topic


def assistant_content(result: dict) -> str:
    """Return the answer, the list of cited sources and the disclaimer as one message."""
    lines = [result["answer"]]
    if result["sources"]:
        lines.append("")
        lines.append("参考法条：")
        for source in result["sources"]:
            lines.append(f"［{source['source_id']}］《{source['law']}》{source['article']}"
                         f"（{source['status']}，{source['effective_date'] or '施行日期不详'} 起施行）")
    lines.append("")
    lines.append(result["disclaimer"])
    return "\n".join(lines)


def _usage(question: str, content: str) -> dict:
    # Characters stand in for tokens: the service has no tokenizer of the client's model.
    return {"prompt_tokens": len(question), "completion_tokens": len(content),
            "total_tokens": len(question) + len(content)}


def completion(question: str, result: dict) -> dict:
    content = assistant_content(result)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(question, content),
        "tianping": result,
    }


def completion_chunks(question: str, result: dict) -> Iterator[str]:
    """Yield the server-sent events of a streamed completion, ending with ``data: [DONE]``."""
    content = assistant_content(result)
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": MODEL_ID}

    def event(delta: dict, finish_reason: str | None = None, **extra) -> str:
        chunk = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish_reason,
                                     "logprobs": None}], **extra)
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    for start in range(0, len(content), STREAM_CHUNK_CHARS):
        yield event({"content": content[start:start + STREAM_CHUNK_CHARS]})
    yield event({}, "stop", usage=_usage(question, content), tianping=result)
    yield "data: [DONE]\n\n"


def model_list(created: int) -> dict:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": created,
                                        "owned_by": "tianping"}]}
