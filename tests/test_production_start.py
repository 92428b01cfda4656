"""The README's production block, run as an operator would: deploy/kjxx.env.example filled in,
then every command of steps 2 and 3 exactly as written (the environment file's path aside).
The documented start once failed at its first command and no test noticed; this one would."""
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ENV_EXAMPLE = ROOT / "deploy" / "kjxx.env.example"


def production_block() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Production"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return block.splitlines()


def deploy_commands() -> list[str]:
    """The commands of step 2 ("Every deploy") and step 3 ("The two processes")."""
    lines, step = [], None
    for line in production_block():
        found = re.match(r"# (\d)\.", line)
        if found:
            step = int(found.group(1))
        elif step in (2, 3) and line.strip() and not line.startswith("#"):
            lines.append(line.strip())
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production_database(tmp_path):
    """A fresh database: PostgreSQL when the suite runs on it, else an SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'production.db'}"
        return
    admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"kjxx_prodstart_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def env_file(tmp_path, production_database):
    """deploy/kjxx.env.example with every <...> replaced, as the operator is told to."""
    port = free_port()
    values = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": production_database,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "BIND": f"127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,  # never used: no SMS is sent here
        "TWILIO_AUTH_TOKEN": "not-a-real-token",
        "TWILIO_FROM_NUMBER": "+15005550006",
    }
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}" if name in values else line)
    text = "\n".join(lines) + "\n"
    assert "<" not in "".join(l for l in lines if not l.startswith("#")), "a placeholder is left"
    path = tmp_path / "kjxx.env"
    path.write_text(text, encoding="utf-8")
    return path, port


def shell(command: str, env_path: Path, **kwargs):
    command = command.replace("/etc/kjxx/kjxx.env", str(env_path))
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("APP_", "TEST_", "SECRET", "DATABASE", "REDIS", "SMS_",
                                  "CAPTCHA", "TWILIO", "WECHAT"))}
    return ["bash", "-c", f"set -a && . {env_path} && set +a && {command}"], clean


def test_the_block_names_the_commands_systemd_runs():
    commands = deploy_commands()
    assert commands[:4] == ["make install", "set -a && . /etc/kjxx/kjxx.env && set +a",
                            ".venv/bin/flask --app wsgi db upgrade",
                            ".venv/bin/flask --app wsgi regions load"]
    web = (ROOT / "deploy/systemd/kjxx-web.service").read_text()
    worker = (ROOT / "deploy/systemd/kjxx-worker.service").read_text()
    assert f"ExecStart=/srv/kjxx/{commands[4]}" in web
    assert f"ExecStart=/srv/kjxx/{commands[5]}" in worker
    assert "EnvironmentFile=/etc/kjxx/kjxx.env" in web and "EnvironmentFile=/etc/kjxx/kjxx.env" \
        in worker


def test_the_documented_production_start_serves(env_file):
    env_path, port = env_file
    commands = deploy_commands()
    setup, web = commands[:4], commands[4]
    for command in [setup[0], " && ".join(setup[1:])]:
        argv, env = shell(command, env_path)
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
    assert "regions: 146 added" in result.stdout

    argv, env = shell(" && ".join(setup[1:2] + [web]), env_path)
    server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        body = _wait_for(f"http://127.0.0.1:{port}/healthz", server)
        assert body == b'{"status":"ok"}\n'
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
        page = login.read().decode()
        assert "登录" in page
        # production: the session cookie is only ever sent over HTTPS, and HSTS is on
        assert "Secure" in login.headers["Set-Cookie"]
        assert "max-age=31536000" in login.headers["Strict-Transport-Security"]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert "Refusing to start" not in output
    assert "Booting worker" in output


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"),
                    reason="needs Redis: set TEST_REDIS_URL (.ci/run does)")
def test_the_documented_worker_starts_and_stops_cleanly(env_file):
    env_path, _port = env_file
    commands = deploy_commands()
    argv, env = shell(" && ".join(commands[1:3]), env_path)
    assert subprocess.run(argv, cwd=ROOT, env=env, capture_output=True).returncode == 0
    argv, env = shell(" && ".join([commands[1], commands[5]]), env_path)
    worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(3)
    assert worker.poll() is None, worker.communicate()[0].decode()[-2000:]
    os.killpg(worker.pid, signal.SIGTERM)
    output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode in (0, -signal.SIGTERM), output[-2000:]
    assert "Traceback" not in output, output[-2000:]


def _wait_for(url: str, process, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate()[0].decode()[-3000:])
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")
