"""A bare Flask app: the baseline the login page is compared with.

Run from this folder with the same gunicorn settings as the real app:
    gunicorn -w 2 -b 127.0.0.1:8001 'hello_app:app'
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
