"""deploy/: the nginx site renders into a configuration nginx accepts and agrees with the app's
settings; gunicorn's settings load; static files carry their content hash in their names."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from blueprints.assets import manifest
from config import Config

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "kjxx.conf"


def render(tmp_path, **overrides) -> str:
    env = {"SERVER_NAME": "kjxx.example.gov.cn", "TLS_CERT": str(tmp_path / "cert.pem"),
           "TLS_KEY": str(tmp_path / "key.pem"), "STATIC_ROOT": str(ROOT / "static"),
           "UPSTREAM": "127.0.0.1:8000", "HTTPS_LISTEN": "127.0.0.1:18443",
           "HTTP_LISTEN": "127.0.0.1:18080", "PATH": os.environ["PATH"], **overrides}
    result = subprocess.run([str(ROOT / "deploy/nginx/render.sh")], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_render_fills_every_placeholder_and_refuses_a_missing_one(tmp_path):
    text = render(tmp_path)
    assert "@" not in re.sub(r"#.*", "", text)
    result = subprocess.run([str(ROOT / "deploy/nginx/render.sh")],
                            env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
    assert result.returncode == 2 and "SERVER_NAME must be set" in result.stderr


def test_upload_limit_matches_the_app():
    size = re.search(r"client_max_body_size (\d+)m;", SITE.read_text()).group(1)
    assert int(size) * 1024 * 1024 == Config.MAX_CONTENT_LENGTH


def test_the_archive_upload_has_its_own_larger_limit_and_the_same_proxying():
    text = SITE.read_text()
    archive = text[text.index("location = /admin/imports {"):]
    archive = archive[:archive.index("}") + 1]
    size = re.search(r"client_max_body_size (\d+)m;", archive).group(1)
    assert int(size) * 1024 * 1024 == Config.ARCHIVE_MAX_BYTES
    general = text[text.index("location / {"):]
    general = general[:general.index("}") + 1]
    proxying = [line.strip() for line in general.splitlines()[1:-1]
                if line.strip().startswith("proxy_")]
    assert [line.strip() for line in archive.splitlines()
            if line.strip().startswith("proxy_")] == proxying


def test_nginx_sets_the_forwarded_address_itself():
    text = SITE.read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "$proxy_add_x_forwarded_for" not in text  # would pass on what the client claims
    assert "server_tokens off;" in text
    # the app's headers are not repeated for proxied answers
    proxied = text[text.index("location / {"):]
    assert "add_header" not in proxied


@pytest.mark.skipif(not shutil.which("nginx") or not shutil.which("openssl"),
                    reason="needs nginx and openssl (apt-get install nginx; .ci/run does)")
def test_nginx_accepts_the_rendered_site(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=kjxx.example.gov.cn", "-keyout", str(tmp_path / "key.pem"),
                    "-out", str(tmp_path / "cert.pem")], check=True, capture_output=True)
    (tmp_path / "site.conf").write_text(render(tmp_path))
    main = (ROOT / "deploy/local/nginx-main.conf").read_text().replace("@RUN@", str(tmp_path))
    main = main.replace(f"{tmp_path}/nginx/site.conf", str(tmp_path / "site.conf"))
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx.conf").write_text(main)
    result = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"),
                             "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gunicorn_settings_load_and_bind_to_loopback(monkeypatch):
    for name in ("BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    settings = {}
    exec(compile((ROOT / "deploy/gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
         settings)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 1
    assert settings["graceful_timeout"] >= 30 and settings["preload_app"] is True
    monkeypatch.setenv("WEB_CONCURRENCY", "")  # an empty value means the default
    exec(compile((ROOT / "deploy/gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
         settings)
    assert settings["workers"] >= 2


def test_static_names_change_with_their_content(tmp_path):
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.css").write_text("body{}")
    first = manifest(tmp_path)["css/app.css"]
    assert re.fullmatch(r"css/app\.[0-9a-f]{10}\.css", first)
    (tmp_path / "css" / "app.css").write_text("body{color:red}")
    assert manifest(tmp_path)["css/app.css"] != first


def test_static_files_are_served_by_their_hashed_name_for_a_year(app, client):
    hashed = app.extensions["assets"]["js/app.js"]
    response = client.get(f"/static/{hashed}")
    assert response.status_code == 200 and "max-age=31536000" in response.headers["Cache-Control"]
    response.close()
    plain = client.get("/static/js/app.js")  # error pages link the plain name
    assert plain.status_code == 200 and "max-age=300" in plain.headers["Cache-Control"]
    plain.close()
    assert client.get("/static/js/nothing.0123456789.js").status_code == 404
    assert client.get("/static/../config.py").status_code == 404
    page = client.get("/login").get_data(as_text=True)
    assert f'src="/static/{hashed}"' in page


def test_every_page_names_its_icon_and_nginx_serves_it_at_the_root_too(app, client):
    hashed = app.extensions["assets"]["favicon.ico"]
    assert f'<link rel="icon" href="/static/{hashed}"' in client.get("/login").get_data(as_text=True)
    response = client.get(f"/static/{hashed}")
    assert response.status_code == 200 and response.data.startswith(b"\x00\x00\x01\x00")
    response.close()
    # what names no icon (an image opened alone) asks for /favicon.ico
    text = SITE.read_text()
    location = text[text.index("location = /favicon.ico {"):]
    assert "alias @STATIC_ROOT@/favicon.ico;" in location[:location.index("}")]


def test_nginx_error_pages_are_chinese_and_script_free():
    for name in ("unavailable.html", "too-large.html"):
        text = (ROOT / "static/errors" / name).read_text(encoding="utf-8")
        assert 'lang="zh-CN"' in text and "<script" not in text and "javascript:" not in text
