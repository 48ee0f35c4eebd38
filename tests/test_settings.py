import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from civilaffairs.envtools import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k9#Vd2!qPz8@Lr5^Wm3&Tn7*Hx1%Bc6$Yf4+Js0=Ge2-Ua8~Oi5_Ek3",
    "ALLOWED_HOSTS": "ducha.mzj.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://ducha.mzj.gov.cn",
    "HTTPS": "1",
    "USE_X_FORWARDED_PROTO": "1",
    "FIELD_ENCRYPTION_KEYS": "8ZLG0xbmrPzUdCP7YbGJXwD3cNn9lbTxXpnGqXa1UwI=",
    "BLIND_INDEX_KEY": "q0wVf3ZkOR2Hc2sYh0c3nq9h6xG3f1pB8d2q7Yv9wJk=",
}


def test_check_deploy_passes_under_production_variables():
    env = {**os.environ, **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_check_deploy_fails_without_a_secret_key():
    env = {k: v for k, v in {**os.environ, **PRODUCTION_ENV}.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stdout + result.stderr


def test_env_helpers(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_bool("X_BOOL") is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST") == ["a", "b", "c"]
    assert env_str("X_SECRET") == "from-a-file"
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("X_BOOL")
    monkeypatch.setenv("X_INT", "many")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 1)


def test_defaults_are_chinese_and_shanghai(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
