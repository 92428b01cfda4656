"""Several app hosts share their SMS and login counts through Redis (RATELIMIT_STORAGE_URI)."""
import os
import uuid

import pytest

from app import create_app
from config import TestConfig
from domain.rate_limits import moving_window
from sms import LimitExceeded, check_limits, count_send

REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set TEST_REDIS_URL (.ci/run does)")
def test_a_send_counted_on_one_host_is_seen_on_another(app):
    class OnRedis(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_STORAGE_URI = REDIS_URL
        SMS_PHONE_LIMITS = "1 per 60 seconds"

    host_a, host_b = create_app(OnRedis), create_app(OnRedis)
    phone, ip = "139" + str(uuid.uuid4().int)[:8], "127.0.0.9"
    with host_b.app_context():
        check_limits(phone, ip)  # nothing counted yet
    with host_a.app_context():
        count_send(phone, ip)
    with host_b.app_context():
        with pytest.raises(LimitExceeded, match="该手机号获取验证码过于频繁"):
            check_limits(phone, ip)
        moving_window().storage.reset()
