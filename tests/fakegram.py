"""A small fake of Telegram's Bot API, for scenario tests.

It keeps what the real one would: people and their private chats, every message the bot
sent to each chat (its "inbox"), callback answers and edits, and a queue of updates for
getUpdates. It can answer chosen calls with Telegram's errors (429, 5xx, 403, timeouts).

It is reached two ways, sharing one `FakeTelegram`:
- `FakeRequest`, python-telegram-bot's `BaseRequest` seam, for in-process tests;
- `FakeBotAPIServer`, real HTTP on 127.0.0.1, for a bot started as its own process
  (`TELEGRAM_BASE_URL=http://127.0.0.1:PORT/bot`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 700000001,
    "is_bot": True,
    "first_name": "Twenty Minutes",
    "username": "twentyminutes_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TEXT_PARAMS = {"text", "caption", "callback_query_id", "url", "secret_token", "offset_text"}


@dataclass
class Fault:
    kind: str  # "429", "500", "403", "400", "timeout", "network"
    times: int = 1
    chat_id: int | None = None
    retry_after: int = 1


@dataclass
class FakeUser:
    tg: FakeTelegram
    id: int
    first_name: str
    language_code: str = "en"

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    @property
    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    # -- what the bot sent to this person -------------------------------------------------
    @property
    def inbox(self) -> list[dict[str, Any]]:
        return self.tg.inbox(self.id)

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.inbox]

    @property
    def last(self) -> dict[str, Any]:
        assert self.inbox, f"{self.first_name} has received nothing"
        return self.inbox[-1]

    def received(self, fragment: str) -> bool:
        return any(fragment in t for t in self.texts)

    def last_with_buttons(self) -> dict[str, Any]:
        for message in reversed(self.inbox):
            if message.get("reply_markup"):
                return message
        raise AssertionError(f"{self.first_name} has no message with buttons")

    # -- updates this person makes --------------------------------------------------------
    def message(self, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.tg.next_message_id(),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.tg.user_messages[message["message_id"]] = message
        return self.tg.make_update(message=message)

    def text(self, text: str, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        extra = {"reply_to_message": reply_to} if reply_to else {}
        return self.message(text, **extra)

    def voice(
        self, file_id: str = "voice-1", reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "voice": {"file_id": file_id, "file_unique_id": file_id, "duration": 3}
        }
        if reply_to:
            extra["reply_to_message"] = reply_to
        return self.message(None, **extra)

    def photo(
        self, file_id: str = "photo-1", reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 10, "height": 10}]
        }
        if reply_to:
            extra["reply_to_message"] = reply_to
        return self.message(None, **extra)

    def edit(self, update: dict[str, Any], new_text: str) -> dict[str, Any]:
        message = dict(update["message"], text=new_text, edit_date=int(time.time()))
        return self.tg.make_update(edited_message=message)

    def press(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        return self.tg.make_update(
            callback_query={
                "id": str(self.tg.next_message_id()),
                "from": self.user,
                "chat_instance": f"ci{self.id}",
                "data": data,
                "message": message,
            }
        )

    def button(self, label_fragment: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Press the button labelled with `label_fragment`, on the newest message with one."""
        candidates = [message] if message else list(reversed(self.inbox))
        for msg in candidates:
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for b in row:
                    if label_fragment in b["text"] and "callback_data" in b:
                        return self.press(msg, b["callback_data"])
        raise AssertionError(f"{self.first_name} has no button {label_fragment!r}")


@dataclass
class FakeTelegram:
    bot_user: dict[str, Any] = field(default_factory=lambda: dict(BOT_USER))
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    chats: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    pending_updates: list[dict[str, Any]] = field(default_factory=list)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    send_delay: float = 0.0  # seconds the HTTP server takes over each send (a slow Telegram)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(100001)
        self.new_update = asyncio.Event()

    def next_message_id(self) -> int:
        return next(self._ids)

    def person(self, first_name: str, language_code: str = "en") -> FakeUser:
        return FakeUser(self, next(self._user_ids), first_name, language_code)

    def make_update(self, **payload: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **payload}

    def inbox(self, chat_id: int) -> list[dict[str, Any]]:
        return self.chats.setdefault(chat_id, [])

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params in self.requests if m == method]

    def fail(
        self,
        method: str,
        kind: str,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int = 1,
    ) -> None:
        self.faults.setdefault(method, []).append(Fault(kind, times, chat_id, retry_after))

    # -- the API ---------------------------------------------------------------------------
    def _fault_for(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat_id = params.get("chat_id")
        if (
            method.startswith(("send", "copy"))
            and chat_id is not None
            and int(chat_id) in self.blocked
        ):
            return Fault("403")
        for fault in self.faults.get(method, []):
            if fault.times > 0 and (fault.chat_id is None or fault.chat_id == int(chat_id or 0)):
                fault.times -= 1
                return fault
        return None

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, Telegram's JSON body)."""
        fault = self._fault_for(method, params)
        if fault is not None:
            if fault.kind == "timeout":
                raise TimedOut("fake timeout")
            if fault.kind == "network":
                raise NetworkError("fake network error")
            errors = {
                "429": (429, f"Too Many Requests: retry after {fault.retry_after}"),
                "500": (500, "Internal Server Error"),
                "403": (403, "Forbidden: bot was blocked by the user"),
                "400": (400, "Bad Request: message is not modified"),
            }
            status, description = errors[fault.kind]
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if status == 429:
                body["parameters"] = {"retry_after": fault.retry_after}
            return status, body
        self.requests.append((method, params))
        handler = getattr(self, f"_api_{method}", None)
        result = handler(params) if handler else True
        return 200, {"ok": True, "result": result}

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": self.bot_user,
            **{k: v for k, v in content.items() if v is not None},
        }
        self.inbox(chat_id).append(message)
        return message

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        reply = (params.get("reply_parameters") or {}).get("message_id")
        return self._bot_message(
            int(params["chat_id"]),
            text=params["text"],
            reply_markup=params.get("reply_markup"),
            reply_to_message=self.user_messages.get(int(reply)) if reply else None,
        )

    def _api_copyMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self.user_messages.get(int(params["message_id"])) or {
            "copied_from": [params["from_chat_id"], params["message_id"]]
        }
        content = {
            k: v
            for k, v in source.items()
            if k in ("text", "voice", "photo", "video_note", "caption", "copied_from")
        }
        message = self._bot_message(
            int(params["chat_id"]),
            reply_markup=params.get("reply_markup"),
            copy_of=int(params["message_id"]),
            **content,
        )
        return {"message_id": message["message_id"]}

    def _find(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return next((m for m in self.inbox(chat_id) if m["message_id"] == message_id), None)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        if message is None:
            return True
        message["text"] = params["text"]
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        message = self._find(int(params["chat_id"]), int(params["message_id"]))
        if message is None:
            return True
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = params.get("document")  # the bytes stay in self.requests
        name = getattr(document, "filename", "file")
        return self._bot_message(
            int(params["chat_id"]),
            caption=params.get("caption"),
            document={"file_id": "doc", "file_unique_id": "doc", "file_name": name},
        )

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        return list(self.pending_updates)

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (the HTTP server's long polling)."""
        self.pending_updates.append(update)
        self.new_update.set()


class FakeRequest(BaseRequest):
    """python-telegram-bot's transport seam, answered by a FakeTelegram in-process."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if request_data and request_data.contains_files:
            for f in request_data.multipart_data.values():  # keep uploaded files' bytes
                name, content, *_ = f
                params = dict(params, document=_Upload(str(name), content))
        status, body = self.tg.handle(api_method, dict(params))
        return status, json.dumps(body).encode()


@dataclass
class _Upload:
    filename: str
    input_file_content: bytes


class FakeBotAPIServer:
    """The same fake over real HTTP on 127.0.0.1, with long-polling getUpdates."""

    def __init__(self, tg: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        self.tg, self.host, self.port = tg, host, port
        self._runner: Any = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        method = request.match_info["method"]
        params: dict[str, Any] = {}
        if request.content_type == "application/json":
            params = await request.json()
        else:
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    params[key] = _Upload(value.filename, value.file.read())
                elif key in TEXT_PARAMS:
                    params[key] = value
                else:
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        params[key] = value
        if method == "getUpdates":
            deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
            while not self.tg._api_getUpdates(params) and time.monotonic() < deadline:
                self.tg.new_update.clear()
                try:
                    await asyncio.wait_for(self.tg.new_update.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        if self.tg.send_delay and method.startswith(("send", "copy")):
            await asyncio.sleep(self.tg.send_delay)
        try:
            status, body = self.tg.handle(method, params)
        except (TimedOut, NetworkError):
            await asyncio.sleep(0.05)
            return web.Response(status=504)
        return web.json_response(body, status=status)
