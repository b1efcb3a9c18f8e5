"""`.env.example` is generated from Settings and must not drift from it."""

from pathlib import Path

from offchain.settings import Settings, env_example

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_matches_settings():
    assert (ROOT / ".env.example").read_text() == env_example(), (
        "regenerate with `.venv/bin/python -m offchain.settings > .env.example`"
    )


def test_every_setting_is_documented():
    text = (ROOT / ".env.example").read_text()
    for name, field in Settings.model_fields.items():
        assert f"TESSERA_{name.upper()}=" in text
        assert field.description, f"{name} has no description"


def test_env_example_values_parse_back(monkeypatch, tmp_path):
    # an .env copied verbatim from the example yields the defaults
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    monkeypatch.chdir(tmp_path)
    assert Settings() == Settings(_env_file=None)
