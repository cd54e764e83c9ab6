"""The OpenAI caption writer: one chat completion per track returns all three variants
(detailed, short, tags) through a JSON schema (structured output).

Works with any OpenAI-compatible endpoint (OPENAI_BASE_URL: vLLM, Ollama, LM
Studio...). Retries on 429/5xx/timeouts are the client's own (exponential
backoff, honouring Retry-After); every failure becomes one WriterError whose
message says what to do next and never contains the key.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import openai

from trainmode.captions.text import split_tags, strip_markdown
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.captions.writers.context import build_context, caption_metadata, clean_caption, fingerprint
from trainmode.captions.writers.system_prompt import (
    CAPTIONS_RESPONSE_FORMAT,
    TRAIN_PROMPT_VERSION,
    TRAIN_SYSTEM_PROMPT,
    TRAIN_SYSTEM_PROMPT_SHA256,
)
from trainmode.config import Settings
from trainmode.errors import WriterError

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
TEMPERATURE = 0.4
MAX_TOKENS = 600  # three variants are ~200 tokens; this only stops a runaway local model
MAX_TAGS = 15
OFFLINE_HINT = "or use the offline writer (TRAINMODE_WRITER=offline)"
# Local servers (Ollama, LM Studio...) ignore the key, but the client requires one.
LOCAL_PLACEHOLDER_KEY = "not-needed"


class OpenAIWriter:
    name = "openai"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        temperature: float = TEMPERATURE,
    ):
        if not api_key and not base_url:
            raise WriterError(f"No OpenAI API key is set: set OPENAI_API_KEY {OFFLINE_HINT}.")
        self._key = str.__str__(api_key or LOCAL_PLACEHOLDER_KEY)
        self.model = model or DEFAULT_MODEL
        self.base_url = base_url or DEFAULT_BASE_URL
        try:
            url = urlsplit(self.base_url)
            url.port  # noqa: B018  (raises ValueError for a bad port)
        except ValueError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.hostname:
            raise WriterError(
                "OPENAI_BASE_URL must be an http:// or https:// URL, such as "
                "http://localhost:11434/v1 for Ollama; leave it empty for OpenAI."
            )
        self.timeout = timeout
        self.max_retries = max_retries
        self.temperature = temperature
        self._client = openai.OpenAI(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=max_retries,
            timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> OpenAIWriter:
        return cls(
            settings.openai_api_key.reveal(),
            model=settings.model or DEFAULT_MODEL,
            base_url=settings.openai_base_url or None,
            **overrides,
        )

    def __repr__(self) -> str:  # never the key
        return f"OpenAIWriter(model={self.model!r}, endpoint={self.endpoint!r})"

    @property
    def endpoint(self) -> str:
        """The base URL without credentials or query, for messages and provenance."""
        url = urlsplit(self.base_url)
        return f"{url.scheme}://{url.hostname or ''}{f':{url.port}' if url.port else ''}{url.path}".rstrip("/")

    def write(self, summary: dict, master_schema: dict, *, artist_name: str | None = None) -> GeneratedCaption:
        context = build_context(summary, master_schema, artist_name=artist_name)
        started = time.monotonic()
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": TRAIN_SYSTEM_PROMPT}, {"role": "user", "content": context}],
                temperature=self.temperature,
                max_tokens=MAX_TOKENS,
                response_format=CAPTIONS_RESPONSE_FORMAT,
            )
        except openai.OpenAIError as exc:
            raise WriterError(self._scrub(self._explain(exc))) from None
        variants, choice = self._variants(completion)
        filled = [name for name in ("short", "tags") if not variants.get(name)]
        if filled:  # an endpoint that ignored the schema: the facts-only writer supplies the rest
            from trainmode.captions.writers.offline import OfflineWriter

            offline = OfflineWriter().write(summary, master_schema, artist_name=artist_name).variants
            variants.update({name: offline[name] for name in filled})
        usage = getattr(completion, "usage", None)
        model = getattr(completion, "model", None) or self.model
        return GeneratedCaption.written(
            writer=self.name,
            model=model,
            version=TRAIN_PROMPT_VERSION,
            variants=variants,
            metadata=caption_metadata(summary),
            requested_model=self.model,
            endpoint=self.endpoint,
            temperature=self.temperature,
            system_prompt_sha256=TRAIN_SYSTEM_PROMPT_SHA256,
            context_sha256=fingerprint(context),
            master_schema_sha256=fingerprint(master_schema),
            summary_sha256=fingerprint(summary),
            usage={k: getattr(usage, k, None) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
            if usage
            else None,
            request_id=getattr(completion, "_request_id", None),
            response_id=getattr(completion, "id", None),
            finish_reason=getattr(choice, "finish_reason", None),
            latency_ms=round((time.monotonic() - started) * 1000),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            variants_from_offline=filled,
        )

    def _variants(self, completion) -> tuple[dict[str, str], object]:
        """The cleaned variants and the choice; a WriterError when there is no usable detailed caption.

        A reply that is not the JSON object asked for (a server that ignores response_format)
        is taken as the detailed caption alone."""
        choices = getattr(completion, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        content = getattr(message, "content", None) or ""
        try:
            value = json.loads(content)
        except ValueError:
            value = None
        if isinstance(value, dict) and "detailed" in value:
            variants = {
                "detailed": clean_caption(str(value.get("detailed") or "")),
                "short": clean_caption(str(value.get("short") or "")),
                "tags": _tags(value.get("tags")),
            }
        else:
            variants = {"detailed": clean_caption(content)}
        if not variants["detailed"]:
            raise WriterError(
                f"{self.endpoint} answered without a usable caption (model {self.model!r}). "
                f"Try again, check that the endpoint is OpenAI-compatible, {OFFLINE_HINT}."
            )
        return variants, choices[0]

    def _explain(self, exc: openai.OpenAIError) -> str:
        where = self.endpoint
        n = self.max_retries
        retries = f"after {n} {'retry' if n == 1 else 'retries'}" if n else "without retries"
        for kind, message in _MESSAGES:  # the first match: a timeout is also a connection error
            if isinstance(exc, kind):
                return message.format(
                    where=where, retries=retries, timeout=self.timeout, model=self.model, hint=OFFLINE_HINT
                )
        if isinstance(exc, openai.RateLimitError):
            if getattr(exc, "code", None) == "insufficient_quota":
                return f"The OpenAI account has no quota left (HTTP 429). Add credit {OFFLINE_HINT}."
            return (
                f"{where} is rate limiting requests (HTTP 429 {retries}). Wait a minute, generate fewer "
                f"captions at once, {OFFLINE_HINT}."
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return f"{where} failed with HTTP {exc.status_code} {retries}. Try again later {OFFLINE_HINT}."
            detail = _server_message(exc)
            return (
                f"{where} refused the request (HTTP {exc.status_code}{': ' + detail if detail else ''}). "
                f"Check TRAINMODE_MODEL and OPENAI_BASE_URL {OFFLINE_HINT}."
            )
        return (
            f"{where} sent an answer that is not a chat completion ({exc.__class__.__name__}). "
            f"Check that the endpoint is OpenAI-compatible {OFFLINE_HINT}."
        )

    def _scrub(self, message: str) -> str:
        return message.replace(self._key, "***") if len(self._key) >= 4 else message


# What each failure means for the user, in the order they are tried.
_MESSAGES = (
    (openai.APITimeoutError, "{where} did not answer within {timeout:g} s ({retries}). Try again later {hint}."),
    (
        openai.APIConnectionError,
        "Cannot connect to {where}. Check OPENAI_BASE_URL, that the server is running and your network, {hint}.",
    ),
    (openai.AuthenticationError, "{where} rejected the API key (HTTP 401). Check OPENAI_API_KEY {hint}."),
    (
        openai.PermissionDeniedError,
        "The API key may not use model {model!r} at {where} (HTTP 403). "
        "Check TRAINMODE_MODEL and the key's project {hint}.",
    ),
    (
        openai.NotFoundError,
        "Model {model!r} was not found at {where} (HTTP 404). Check TRAINMODE_MODEL and OPENAI_BASE_URL {hint}.",
    ),
)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    message = error.get("message") if isinstance(error, dict) else None
    return " ".join(str(message).split())[:200] if message else ""


def _tags(value) -> str:
    """The model's tags (a list, or a comma-separated string) as one clean comma-separated line."""
    items = value if isinstance(value, list) else split_tags(str(value or ""))
    tags = [" ".join(strip_markdown(str(t)).strip(" #\"'`").split()) for t in items]
    return ", ".join(list(dict.fromkeys(t for t in tags if t and "," not in t))[:MAX_TAGS])
