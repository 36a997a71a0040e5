"""Request and response models of the HTTP API; they are also its OpenAPI document.

Response models allow extra fields, so a field added to the CLI's JSON shapes
does not break clients that validate against this document.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from tianping import config

Mode = Literal["hybrid", "bm25", "dense"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------ errors


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_input, not_found, unauthorized.")
    message: str = Field(description="What went wrong and how to fix it, in Chinese.")


class ErrorResponse(BaseModel):
    error: ErrorBody


# ------------------------------------------------------------------ statutes


class Item(_Open):
    number: int
    text: str


class Paragraph(_Open):
    number: int
    text: str
    items: list[Item] = []


class LaterAmendment(_Open):
    """An amending act that changed the article after its stored text, with the new text when the act gives it."""

    act: str
    effective_date: str | None = None
    version_date: str | None = None
    act_article: str | None = None
    amended_text: str | None = None
    deleted: bool = False


class ArticleFields(_Open):
    law: str
    short_name: str | None = None
    level: str | None = None
    article: str
    article_number: int
    article_suffix: int
    path: list[str]
    text: str
    paragraphs: list[Paragraph]
    status: str
    effective_date: str | None = None
    version_date: str | None = None
    amended_by: str | None = None
    outdated_by: LaterAmendment | None = None


class VersionSummary(_Open):
    version_date: str | None = None
    effective_date: str | None = None
    status: str
    amended_by: str | None = None
    source: str | None = None


class ArticleResponse(ArticleFields):
    date: str
    unchanged_by: list[str] = []
    versions: list[VersionSummary]


class Hit(ArticleFields):
    score: float
    rank: int
    matched_terms: list[str]
    retrievers: dict


class SearchResponse(_Open):
    query: str
    mode: str
    date: str
    notes: list[str]
    hits: list[Hit]


class LawSummary(_Open):
    law: str
    short_name: str | None = None
    level: str | None = None
    category: str | None = None
    status: str
    effective_date: str | None = None
    version_date: str | None = None
    versions: int
    articles: int


class LawListResponse(_Open):
    laws: list[LawSummary]
    total: int


# ------------------------------------------------------------------ citations


class VerifyRequest(BaseModel):
    text: StrictStr = Field(min_length=1, max_length=config.MAX_TEXT_CHARS,
                            description="Text whose statute citations are checked.")
    date: StrictStr | None = Field(None, description="Date the text refers to, YYYY-MM-DD (default: today).")


class CitationCheck(_Open):
    text: str
    start: int
    end: int
    law: str | None = None
    article: str | None = None
    valid: bool
    reason: str
    reason_label: str
    message: str


class VerifyResponse(_Open):
    date: str
    total: int
    valid: int
    invalid: int
    citations: list[CitationCheck]


# ------------------------------------------------------------------ ask


class AskRequest(BaseModel):
    question: StrictStr = Field(min_length=1, max_length=config.MAX_QUERY_CHARS, description="A legal question.")
    date: StrictStr | None = Field(None, description="Date of the events, YYYY-MM-DD (default: a date written in "
                                                     "the question, else today).")
    top_k: StrictInt = Field(5, ge=1, le=100, description="Number of articles to retrieve.")
    mode: Mode = "hybrid"


class AnswerCitation(CitationCheck):
    grounded: bool
    action: str


class AskResponse(_Open):
    query: str
    question: str
    answer: str
    answerable: bool
    mode: str
    date: str
    date_source: str
    confidence: float
    hits: list[Hit]
    sources: list[Hit]
    citations: list[AnswerCitation]
    notes: list[str]
    disclaimer: str


# ------------------------------------------------------------------ prediction


class PredictRequest(BaseModel):
    fact: StrictStr = Field(min_length=1, max_length=config.MAX_TEXT_CHARS,
                            description="The facts of a criminal case, as in a judgment's 经审理查明 part.")
    abstain_below: float | None = Field(None, ge=0.0, le=1.0, description="Abstain when the top charge "
                                        "probability is below this (default: the model's own threshold).")


class PredictedArticle(_Open):
    article_number: int
    probability: float
    text: str | None = None
    version_effective_date: str | None = None
    provision: str | None = Field(None, description="The inserted article (such as 第一百三十三条之一) whose text "
                                  "is given, when it defines a predicted charge that CAIL2018 labels by the "
                                  "article before it.")


class PredictResponse(_Open):
    charges: list[dict]
    articles: list[PredictedArticle]
    term: dict
    confidence: float
    abstained: bool
    candidates: list[dict]
    event_date: str | None = None
    term_basis: dict | None = None


# ------------------------------------------------------------------ OpenAI-compatible


class ContentPart(_Open):
    type: StrictStr
    text: StrictStr | None = None


class ChatMessage(_Open):
    role: Literal["system", "user", "assistant", "tool", "developer", "function"]
    content: StrictStr | list[ContentPart] | None = None


class ChatCompletionRequest(_Open):
    """An OpenAI chat completion request; sampling fields are accepted and ignored."""

    model: StrictStr = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    tianping: AskResponse = Field(description="The /v1/ask result the message was written from: sources and citation checks.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


# ------------------------------------------------------------------ health


class Health(BaseModel):
    status: str


class Readiness(_Open):
    status: str
    store_generation: int | None = None
    articles: int | None = None
