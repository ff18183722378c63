"""Saying a line in the console-like test chat and reading the answer."""


def said(chat, who: str, line: str, room: str) -> str:
    """What `who` is answered for `line` in `room`, which must be accepted."""
    reply = chat.say(who, line, room)
    assert reply.ok, reply.message.plain()
    return reply.message.plain()
