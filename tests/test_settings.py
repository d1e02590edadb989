"""Settings come from TRKV_* variables and one optional trkv.toml; secrets never print."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from trkv.settings import MaskUrlPasswords, Settings, reset_settings


def test_the_config_file_fills_in_and_the_environment_wins(tmp_path, monkeypatch):
    config = tmp_path / "trkv.toml"
    config.write_text('web_port = 9100\nsupport_address = "help@example.com"\nsla_x_hours = 1.5\n')
    monkeypatch.setenv("TRKV_CONFIG", str(config))
    monkeypatch.setenv("TRKV_WEB_PORT", "9200")
    settings = reset_settings()
    assert settings.web_port == 9200
    assert settings.support_address == "help@example.com"
    assert settings.channel_sla_hours()["x"] == 1.5
    monkeypatch.delenv("TRKV_CONFIG")
    reset_settings()


def test_the_defaults_are_the_one_machine_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("TRKV_HOME", str(tmp_path))
    monkeypatch.delenv("TRKV_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRKV_BROKER_URL", raising=False)
    monkeypatch.delenv("TRKV_DEMO", raising=False)
    settings = reset_settings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'trkv.db'}"
    assert settings.is_embedded_broker and settings.demo_enabled
    monkeypatch.setenv("TRKV_DISCORD_TOKEN", "abc")
    assert not reset_settings().demo_enabled  # a live channel turns the demo off


def test_secrets_never_reach_a_log_or_a_repr(monkeypatch, caplog):
    monkeypatch.setenv("TRKV_X_BEARER_TOKEN", "AAAA-very-secret")
    monkeypatch.setenv("TRKV_IMAP_PASSWORD", "hunter2-secret")
    settings = reset_settings()
    with caplog.at_level(logging.INFO):
        logging.getLogger("trkv").info("settings: %s", settings)
    assert "very-secret" not in repr(settings) and "hunter2" not in caplog.text
    assert settings.x_bearer_token.get_secret_value() == "AAAA-very-secret"


def test_links_follow_the_web_address_until_a_public_url_is_set(monkeypatch):
    monkeypatch.setenv("TRKV_WEB_PORT", "8765")
    monkeypatch.delenv("TRKV_PUBLIC_URL", raising=False)
    assert reset_settings().public_url == "http://127.0.0.1:8765"  # acknowledgements link where the inbox is
    monkeypatch.setenv("TRKV_PUBLIC_URL", "https://support.example.com")
    assert reset_settings().public_url == "https://support.example.com"


def test_database_and_broker_urls_are_secret_in_the_settings_and_in_logs(monkeypatch, caplog):
    monkeypatch.setenv("TRKV_DATABASE_URL", "postgresql+psycopg://trkv:db-pass-s3cret@db.internal/trkv")
    monkeypatch.setenv("TRKV_BROKER_URL", "amqp://trkv:mq-pass-s3cret@mq.internal//")
    settings = reset_settings()
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    assert settings.db_url.endswith("db-pass-s3cret@db.internal/trkv")  # engines still get the real URL
    assert settings.broker == "amqp://trkv:mq-pass-s3cret@mq.internal//"
    handler = logging.StreamHandler()
    handler.addFilter(MaskUrlPasswords())
    logger = logging.getLogger("trkv.test_masking")
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            caplog.handler.addFilter(MaskUrlPasswords())
            logger.warning("could not connect to %s (%s)", settings.db_url, settings.broker)
    finally:
        logger.removeHandler(handler)
    assert "s3cret" not in caplog.text and "trkv:***@db.internal" in caplog.text


def test_each_home_generates_its_own_secret_and_a_shared_key_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("TRKV_SECRET_KEY", raising=False)
    a, b = Settings(home=tmp_path / "a"), Settings(home=tmp_path / "b")
    assert a.session_secret() != b.session_secret()  # one machine: generated once per home
    assert a.session_secret() == Settings(home=tmp_path / "a").session_secret()  # and kept
    shared = {"secret_key": "one key for every host"}
    assert Settings(home=tmp_path / "a", **shared).session_secret() == Settings(home=tmp_path / "b",
                                                                                **shared).session_secret()
    assert "one key" not in repr(Settings(home=tmp_path / "a", **shared))


def test_a_workers_task_log_masks_url_passwords(tmp_path):
    """Celery gives its task logger a handler of its own; a task logging a URL with a password
    (a driver error quoting it) must not write the password, as `trkv worker` sets logging up."""
    script = (
        "import worker\n"
        "from celery.utils.log import get_task_logger\n"
        "worker.app.log.setup(loglevel='INFO', redirect_stdouts=False)\n"
        "get_task_logger('trkv.tasks').error('lost postgresql+psycopg://trkv:pw-s3cret@db/trkv')\n")
    env = {**os.environ, "TRKV_HOME": str(tmp_path), "TRKV_BROKER_URL": "memory://"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert "trkv:***@db/trkv" in out.stderr and "s3cret" not in out.stderr
