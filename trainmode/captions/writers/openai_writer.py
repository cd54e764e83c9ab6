"""The OpenAI caption writer: one chat completion per track returns all three variants
(detailed, short, tags) through a JSON schema (structured output).

It can listen: with TRAINMODE_WRITER_AUDIO=1 (or `listen=True`) and audio passed to
`write()`, the first 30 s of the render or clip go to an audio-capable chat model
(TRAINMODE_AUDIO_MODEL, default gpt-4o-audio-preview) as an `input_audio` content part beside
the fact sheet and the tags; the reply and its fact check are the same. Without audio, or
with the setting off, the text-only model (TRAINMODE_MODEL, default gpt-4o-mini) writes.

Works with any OpenAI-compatible endpoint (OPENAI_BASE_URL: vLLM, Ollama, LM
Studio...). Retries on 429/5xx/timeouts are this module's (exponential backoff,
honouring Retry-After), all within one overall deadline per caption (`deadline_s`):
each read also has a timeout, but a server trickling a byte every few seconds
never trips that (trainmode/ops/deadline.py). A Retry-After the deadline cannot
wait is not waited for: the message says so and how many requests were made. Every
failure becomes one WriterError whose message says what to do next and never
contains the key.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx2
import openai

from trainmode.captions.text import split_tags, strip_markdown
from trainmode.captions.writers.audio_input import AudioSource, excerpt
from trainmode.captions.writers.base import GeneratedCaption
from trainmode.captions.writers.context import (
    build_context,
    caption_metadata,
    clean_caption,
    context_heard,
    fingerprint,
)
from trainmode.captions.writers.system_prompt import (
    CAPTIONS_RESPONSE_FORMAT,
    TRAIN_PROMPT_VERSION,
    TRAIN_SYSTEM_PROMPT,
    TRAIN_SYSTEM_PROMPT_SHA256,
)
from trainmode.config import Settings
from trainmode.errors import WriterError
from trainmode.ops import deadline

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_AUDIO_MODEL = "gpt-4o-audio-preview"
AUDIO_SETTING, AUDIO_MODEL_SETTING = "TRAINMODE_WRITER_AUDIO", "TRAINMODE_AUDIO_MODEL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_DEADLINE_S = 180.0  # one caption, its retries and their waits included
RETRY_STATUSES = (408, 409, 429)  # and every 5xx
BACKOFF_S, MAX_BACKOFF_S = 0.5, 8.0
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
        listen: bool = False,
        audio_model: str = DEFAULT_AUDIO_MODEL,
        deadline_s: float = DEFAULT_DEADLINE_S,
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
        self.listen = listen  # send the audio when write() is given some
        self.audio_model = audio_model or DEFAULT_AUDIO_MODEL
        self.deadline_s = deadline_s
        limits = httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        self._client = openai.OpenAI(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=0,  # retried in _complete, within the deadline
            timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)),
            http_client=openai.DefaultHttpxClient(
                transport=deadline.transport(httpx2, default_s=deadline_s, limits=limits)
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> OpenAIWriter:
        # The listening settings are read here, beside the writer they configure.
        listen = os.environ.get(AUDIO_SETTING, "").strip().lower() in ("1", "true", "yes", "on")
        overrides.setdefault("listen", listen)
        overrides.setdefault("audio_model", os.environ.get(AUDIO_MODEL_SETTING, "").strip() or DEFAULT_AUDIO_MODEL)
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

    def write(
        self,
        summary: dict,
        master_schema: dict,
        *,
        artist_name: str | None = None,
        heard=None,
        audio: AudioSource | None = None,
    ) -> GeneratedCaption:
        """`heard`: the tagger's tags (in the context); `audio`: the render or clip (MP3/WAV bytes
        or a path), sent only when this writer listens."""
        context = build_context(summary, master_schema, artist_name=artist_name, heard=heard)
        sent = excerpt(audio) if self.listen and audio is not None else None
        model = self.audio_model if sent else self.model
        content = [{"type": "text", "text": context}, sent.part()] if sent else context
        started = time.monotonic()
        completion = self._complete(content, model, started + self.deadline_s)
        variants, choice = self._variants(completion, model)
        filled = [name for name in ("short", "tags") if not variants.get(name)]
        if filled:  # an endpoint that ignored the schema: the facts-only writer supplies the rest
            from trainmode.captions.writers.offline import OfflineWriter

            offline = OfflineWriter().write(summary, master_schema, artist_name=artist_name, heard=heard).variants
            variants.update({name: offline[name] for name in filled})
        return GeneratedCaption.written(
            writer=self.name,
            model=getattr(completion, "model", None) or model,
            version=TRAIN_PROMPT_VERSION,
            variants=variants,
            metadata=caption_metadata(summary),
            requested_model=model,
            endpoint=self.endpoint,
            temperature=self.temperature,
            system_prompt_sha256=TRAIN_SYSTEM_PROMPT_SHA256,
            context_sha256=fingerprint(context),
            master_schema_sha256=fingerprint(master_schema),
            summary_sha256=fingerprint(summary),
            audio=sent.provenance() if sent else None,
            heard=context_heard(summary, master_schema, heard, artist_name),
            **_reply_provenance(completion, choice, started),
            variants_from_offline=filled,
        )

    def _complete(self, content: str | list, model: str, end: float):
        """The chat completion, tried again on timeouts, lost connections, 408/409/429 and 5xx
        while the deadline `end` (time.monotonic()) allows the wait; else one WriterError."""
        attempts = 0
        while True:
            attempts += 1
            try:
                with deadline.until(end):
                    return self._client.chat.completions.create(
                        model=model,
                        messages=[
                            {"role": "system", "content": TRAIN_SYSTEM_PROMPT},
                            {"role": "user", "content": content},
                        ],
                        temperature=self.temperature,
                        max_tokens=MAX_TOKENS,
                        response_format=CAPTIONS_RESPONSE_FORMAT,
                    )
            except openai.OpenAIError as exc:
                wait = _retry_wait(exc, attempts)
                left = end - time.monotonic()
                if wait is None or attempts > self.max_retries or wait >= left:
                    raise WriterError(self._scrub(self._explain(exc, model, attempts, wait, left))) from None
                time.sleep(wait)
            except (ValueError, TypeError):  # a body that is not JSON, or JSON that is not a completion
                raise WriterError(
                    f"{self.endpoint} sent a reply that is not a valid chat completion (malformed JSON). "
                    f"Try again, check that the endpoint is OpenAI-compatible, {OFFLINE_HINT}."
                ) from None

    def _variants(self, completion, model: str) -> tuple[dict[str, str], object]:
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
                f"{self.endpoint} answered without a usable caption (model {model!r}). "
                f"Try again, check that the endpoint is OpenAI-compatible, {OFFLINE_HINT}."
            )
        return variants, choices[0]

    def _retries(self, attempts: int, wait: float | None, left: float) -> str:
        """How the requests went, truthfully: "after 2 retries", "without retries", or why none was made."""
        n = attempts - 1
        if n:
            return f"after {n} {'retry' if n == 1 else 'retries'}"
        if not self.max_retries or wait is None:
            return "without retries"
        if wait >= left:
            return (
                f"not retried: it asked to wait {_seconds(wait)} before trying again, longer than the "
                f"{_seconds(max(left, 0))} left of the {self.deadline_s:g} s a caption may take"
            )
        return "without retries"

    def _explain(
        self, exc: openai.OpenAIError, model: str, attempts: int = 1, wait: float | None = None, left: float = 0
    ) -> str:
        where = self.endpoint
        retries = self._retries(attempts, wait, left)
        if isinstance(exc, openai.APITimeoutError) and left <= 0:
            return (
                f"{where} did not finish the caption within {self.deadline_s:g} s, the most one caption may "
                f"take ({attempts} {'request' if attempts == 1 else 'requests'}). It may be overloaded or "
                f"sending very slowly. Try again later {OFFLINE_HINT}."
            )
        for kind, message in _MESSAGES:  # the first match: a timeout is also a connection error
            if isinstance(exc, kind):
                return message.format(
                    where=where, retries=retries, timeout=self.timeout, model=model, hint=OFFLINE_HINT
                )
        if isinstance(exc, openai.RateLimitError):
            if getattr(exc, "code", None) == "insufficient_quota":
                return f"The OpenAI account has no quota left (HTTP 429). Add credit {OFFLINE_HINT}."
            later = f"Wait {_seconds(wait)}" if wait and wait > 60 else "Wait a minute"
            return (
                f"{where} is rate limiting requests (HTTP 429 {retries}). {later}, generate fewer "
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


def _reply_provenance(completion, choice, started: float) -> dict:
    """What the endpoint said about its answer: token usage, ids, why it stopped, how long it took."""
    usage = getattr(completion, "usage", None)
    return {
        "usage": {k: getattr(usage, k, None) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}
        if usage
        else None,
        "request_id": getattr(completion, "_request_id", None),
        "response_id": getattr(completion, "id", None),
        "finish_reason": getattr(choice, "finish_reason", None),
        "latency_ms": round((time.monotonic() - started) * 1000),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _retry_wait(exc: openai.OpenAIError, attempts: int) -> float | None:
    """Seconds to wait before trying again (the server's Retry-After, else a backoff), or None
    when trying again cannot help."""
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return _backoff(attempts)
    if not isinstance(exc, openai.APIStatusError):
        return None
    if exc.status_code not in RETRY_STATUSES and exc.status_code < 500:
        return None
    headers = exc.response.headers if exc.response is not None else {}
    if headers.get("x-should-retry") == "false" or getattr(exc, "code", None) == "insufficient_quota":
        return None
    asked = _retry_after(headers)
    return asked if asked is not None else _backoff(attempts)


def _retry_after(headers) -> float | None:
    """Retry-After (seconds or an HTTP date) or retry-after-ms, in seconds."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / divisor, 0.0)
        except ValueError:
            try:
                return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
            except (TypeError, ValueError, IndexError):
                continue
    return None


def _backoff(attempts: int) -> float:
    return min(BACKOFF_S * 2 ** (attempts - 1), MAX_BACKOFF_S) * (1 - 0.25 * random.random())


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.3g} h"
    return f"{value / 60:.3g} min" if value >= 120 else f"{value:.0f} s"


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
