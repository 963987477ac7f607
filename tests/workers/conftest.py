"""Fixtures of the worker tests: real SMTP and webhook servers, VNPay order stores."""
from tests.workers.notify_support import dead_smtp, smtp_server, webhook  # noqa: F401
from tests.workers.vnpay_support import store  # noqa: F401
