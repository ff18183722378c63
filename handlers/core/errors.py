"""Refusals: a kind, explicit answer that leaves the state untouched."""

from handlers.text.markup import Message, static, text


class Refusal(Exception):
    """Stop the command, roll back, and tell the user why (and what to do instead)."""

    def __init__(self, message: Message | str):
        self.message = text(message) if isinstance(message, str) else message
        super().__init__(self.message.plain())


class UsageError(Exception):
    """The arguments do not fit the verb; the router replies with its usage."""

    def __init__(self, problem: Message | str = ""):
        self.problem = static(problem) if isinstance(problem, str) else problem
        super().__init__(self.problem.plain())
