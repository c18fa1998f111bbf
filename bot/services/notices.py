"""What a service wants said, to whom: rendered and sent by the Telegram layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """An inline button: `label` is a text key; `data` is callback data, or `url` a link."""

    label: str
    data: str | None = None
    url: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notice:
    """One message to one chat: a text key from content/<lang>/messages.yaml and its values.

    `raw` is text that is sent as it is (an answer, a question), after the rendered text.
    `tag` lets the caller find the sent message again (for example to map it to a round).
    """

    chat_id: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    language: str | None = None
    tag: str | None = None
    copy_from: tuple[int, int] | None = None  # (chat_id, message_id) of media to copy
    reply_to: int | None = None  # message id in this chat to reply to
    document: tuple[str, bytes] | None = None  # (file name, content), sent as a file


def pager(prefix: str, offset: int, page: int, total: int) -> tuple[tuple[Button, ...], ...]:
    """ "Older" and "Newer" buttons for a list shown `page` items at a time from `offset`."""
    row = []
    if offset + page < total:
        row.append(Button("btn_older", f"{prefix}:{offset + page}"))
    if offset > 0:
        row.append(Button("btn_newer", f"{prefix}:{max(0, offset - page)}"))
    return (tuple(row),) if row else ()


class Refusal(Exception):
    """A rule said no: nothing is changed (the transaction rolls back); tell these."""

    def __init__(self, *notices: Notice) -> None:
        super().__init__(", ".join(n.key for n in notices))
        self.notices = list(notices)
