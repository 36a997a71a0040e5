"""Writing the facts-and-reasons section with an LLM backend.

The draft the model writes goes through the same checks as any other text, so a
citation the model invents blocks the document like a citation a user wrote.
"""

from __future__ import annotations

import logging

from tianping.drafting.schema import TemplateSchema

logger = logging.getLogger(__name__)

_SYSTEM_PROMPT = (
    "你是中国执业律师的文书助手。请根据用户给出的案情，为{title}写“{label}”部分。"
    "要求：只写事实和理由本身，不写标题、当事人信息、诉讼请求或落款；按时间顺序陈述事实，语言平实；"
    "金额同时写大写和小写，例如人民币伍万元整（¥50,000.00）；"
    "引用法律时写全称和条号，例如《中华人民共和国民法典》第五百七十七条，不确定条号时不要引用；"
    "不得编造案情中没有的事实、金额或日期。"
)


def write_facts(backend, schema: TemplateSchema, description: str, data: dict,
                mask_personal_data: bool | None = None) -> dict:
    """Ask ``backend`` for the first facts field of ``schema`` and store the generated text in ``data``.

    Only the narrative that extraction kept (sentences without birth dates, ID or
    phone numbers) and the claims are sent, not the party particulars. With
    ``mask_personal_data`` (default: when the backend is remote) names and other
    personal data in them are masked first.
    """
    if not schema.facts_fields:
        return {"backend": backend.name, "field": None, "used": False}
    name = schema.facts_fields[0]
    label = schema.field(name).label
    narrative = str(data.get(name) or "").strip() or description.strip()
    claims = data.get(schema.claims_field) if schema.claims_field else None
    user = f"案情：\n{narrative}"
    if claims:
        user += "\n\n请求事项：\n" + "\n".join(f"{index}. {claim}" for index, claim in enumerate(claims, start=1))
    if mask_personal_data is None:
        mask_personal_data = bool(getattr(backend, "is_remote", False))
    if mask_personal_data:
        from tianping.anonymize import mask_text

        user = mask_text(user)
    messages = [{"role": "system", "content": _SYSTEM_PROMPT.format(title=schema.title, label=label)},
                {"role": "user", "content": user}]
    text = backend.generate(messages).strip()
    logger.info("LLM backend %s wrote %d characters for %s.%s", backend.name, len(text), schema.name, name)
    if text:
        data[name] = text
    return {"backend": backend.name, "field": name, "used": bool(text), "characters": len(text),
            "masked": mask_personal_data}
