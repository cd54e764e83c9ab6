"""Settings: environment first, then .streamlit/secrets.toml; secrets never shown."""

import pytest

from trainmode.config import load_settings
from trainmode.errors import ConfigError

KEY = "sk-test-THIS-MUST-NOT-LEAK"


def test_defaults_are_the_embedded_backend_and_the_offline_capable_auto_writer(tmp_path):
    s = load_settings(env={}, secrets_path=tmp_path / "none.toml")
    assert (s.backend, s.writer, s.model, s.bucket) == ("embedded", "auto", "gpt-4o-mini", "train-mode")
    assert str(s.data_dir) == ".trainmode"


def test_the_secrets_file_is_read_and_the_environment_wins(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        f'OPENAI_API_KEY = "{KEY}"\nTRAINMODE_MODEL = "from-file"\n'
        '[supabase]\nSUPABASE_URL = "https://x.supabase.co/"\n'
    )
    s = load_settings(env={"TRAINMODE_MODEL": "from-env"}, secrets_path=secrets)
    assert s.openai_api_key.reveal() == KEY
    assert s.model == "from-env"
    assert s.supabase_url == "https://x.supabase.co"


def test_secrets_never_appear_in_repr(tmp_path):
    s = load_settings(env={"OPENAI_API_KEY": KEY, "SUPABASE_SERVICE_ROLE_KEY": KEY}, secrets_path=tmp_path / "x")
    assert KEY not in repr(s) and KEY not in repr(s.openai_api_key) and KEY not in str([s.supabase_key])


@pytest.mark.parametrize(
    "env,message",
    [
        ({"TRAINMODE_BACKEND": "mysql"}, "TRAINMODE_BACKEND must be one of embedded, supabase"),
        ({"TRAINMODE_WRITER": "gpt"}, "TRAINMODE_WRITER must be one of"),
        ({"TRAINMODE_SIGNED_URL_EXPIRY": "soon"}, "whole number"),
    ],
)
def test_bad_values_are_clear_messages(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env, secrets_path=tmp_path / "none.toml")


def test_a_broken_secrets_file_is_a_clear_message_without_its_content(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'OPENAI_API_KEY = "{KEY}\n')  # unterminated string
    with pytest.raises(ConfigError) as err:
        load_settings(env={}, secrets_path=secrets)
    assert "not valid TOML" in str(err.value) and KEY not in str(err.value)


@pytest.mark.parametrize(
    "env,writer",
    [
        ({}, "offline"),
        ({"OPENAI_API_KEY": KEY}, "openai"),
        ({"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"}, "openai"),
        ({"OPENAI_API_KEY": KEY, "TRAINMODE_WRITER": "offline"}, "offline"),
    ],
)
def test_auto_picks_openai_only_when_an_endpoint_is_configured(tmp_path, env, writer):
    from trainmode.captions.writers import get_writer

    assert get_writer(load_settings(env=env, secrets_path=tmp_path / "none.toml")).name == writer
