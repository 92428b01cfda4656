"""Entry point for `flask --app wsgi` and gunicorn: the app is built here, not at import of app.py."""
from app import create_app

app = create_app()
