"""What the web app and CLI need to know about the handlers in ``workers/``."""
from __future__ import annotations


def known_topics() -> set[str]:
    """The topics a handler in ``workers/`` serves (a deploy warns about the others)."""
    from workers.runner import HANDLERS
    return set(HANDLERS)
