"""Opt-in: one real caption from OpenAI (or OPENAI_BASE_URL), checked by the fact checker.

Runs only with TRAINMODE_LIVE_OPENAI=1 and OPENAI_API_KEY (or OPENAI_BASE_URL) set; it
costs one gpt-4o-mini call. Every other test uses the fake server in fake_openai.py.
"""

import os

import pytest

from trainmode.captions.factcheck import check_variants
from trainmode.captions.writers.openai_writer import OpenAIWriter
from trainmode.ops.demo import DEMO_SCHEMA, DEMO_SETS, als_bytes
from trainmode.sets.als import parse_als

# Read at import: the autouse isolated_settings fixture clears these for each test.
KEY, BASE_URL = os.environ.get("OPENAI_API_KEY", ""), os.environ.get("OPENAI_BASE_URL") or None
MODEL = os.environ.get("TRAINMODE_MODEL", "gpt-4o-mini")
pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        os.environ.get("TRAINMODE_LIVE_OPENAI") != "1" or not (KEY or BASE_URL),
        reason="live OpenAI test: set TRAINMODE_LIVE_OPENAI=1 and OPENAI_API_KEY",
    ),
]


def test_a_real_caption_passes_the_fact_checker():
    summary = parse_als(als_bytes(DEMO_SETS[0]), filename="night_drive.als").summary
    result = OpenAIWriter(KEY, base_url=BASE_URL, model=MODEL).write(summary, DEMO_SCHEMA, artist_name="Demo Artist")
    assert 10 <= len(result.text.split()) <= 80 and len(result.text) <= 512
    assert set(result.variants) == {"detailed", "short", "tags"} and result.provenance["variants_from_offline"] == []
    found = check_variants(result.variants, summary, DEMO_SCHEMA, artist_name="Demo Artist")
    errors = {name: [f for f in findings if f.severity == "error"] for name, findings in found.items()}
    assert errors == {"detailed": [], "short": [], "tags": []}, result.variants
    assert result.provenance["request_id"] or result.provenance["response_id"]
