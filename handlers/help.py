"""Usage: the list of verbs and each verb's details."""

from config.model import Config
from handlers.context import Context
from handlers.errors import Refusal
from handlers.i18n import N_, _
from handlers.markup import Message, fmt, lines, static, text
from handlers.verbs import ALIASES, VERBS, verb, who_text


def overview(config: Config) -> Message:
    """Every verb with a one-line summary."""
    rows = [fmt("`{name}` — {summary}", name=spec.name, summary=_(spec.summary)) for spec in VERBS.values()]
    return lines(
        static(_("OneVoice commands. In an incident room they act on that incident; elsewhere name it first: `/crisis #12 status`.")),
        *rows,
        static(_("`/crisis help <verb>` shows the usage of one.")),
    )


@verb("help", usage=N_("[verb]"), summary=N_("Show the commands, or how to use one."), needs_incident=False, changes=False)
def show_help(ctx: Context) -> Message:
    """Overview, or one verb's usage and who may use it."""
    word = ctx.args.strip().lower()
    if not word:
        return overview(ctx.config)
    name = ALIASES.get(word)
    if name is None:
        raise Refusal(
            lines(fmt(_("Unknown command “{word}”."), word=word[:40]), static(_("Type `/crisis help` for the list of commands.")))
        )
    spec = VERBS[name]
    aliases = fmt(_("Also: {aliases}"), aliases=", ".join(spec.aliases)) if spec.aliases else Message()
    return lines(
        fmt("`{usage}`", usage=spec.usage_line()), text(_(spec.summary)), fmt(_("Who may: {who}"), who=who_text(spec, ctx.config)), aliases
    )
