import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def test_typed_readers_refuse_bad_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "maybe")
    monkeypatch.setenv("X_INT", "ten")
    monkeypatch.setenv("X_LIST", " a.vn, ,b.vn ")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL", False)
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 1)
    assert env_list("X_LIST") == ["a.vn", "b.vn"]
    monkeypatch.setenv("X_INT", "-1")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 1, minimum=0)


def run_check(**env):
    unset = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "SMS_AUTH_TOKEN", "TURN_SECRET", "TURN_URLS"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_production_settings_pass_the_deployment_check():
    result = run_check(DEBUG="false", SECRET_KEY="k" * 10 + "-production-secret-from-the-environment-1234567890",
                       SMS_AUTH_TOKEN="production-sms-token-0123456789", TURN_SECRET="production-turn-secret-0123456789",
                       ALLOWED_HOSTS="telecare.example.vn")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_a_secret_key_refuses_to_start():
    result = run_check(DEBUG="false")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_the_embedded_default_fails_the_deployment_check():
    # DEBUG on and the development key: the check must say so rather than pass.
    assert run_check().returncode != 0
