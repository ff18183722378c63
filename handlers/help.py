"""Usage: the list of verbs and each verb's details."""

from config.model import Config
from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.core.verbs import verb, who_text
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines, static, text


def overview(config: Config) -> Message:
    """Every verb with a one-line summary."""
    rows = [fmt("`{name}` — {summary}", name=spec.name, summary=_(spec.summary)) for spec in _registry().verbs.values()]
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
    name = _registry().aliases.get(word)
    if name is None:
        raise Refusal(
            lines(fmt(_("Unknown command “{word}”."), word=word[:40]), static(_("Type `/crisis help` for the list of commands.")))
        )
    spec = _registry().verbs[name]
    aliases = fmt(_("Also: {aliases}"), aliases=", ".join(spec.aliases)) if spec.aliases else Message()
    return lines(
        fmt("`{usage}`", usage=spec.usage_line()), text(_(spec.summary)), fmt(_("Who may: {who}"), who=who_text(spec, ctx.config)), aliases
    )


def _registry():
    """The catalog, imported late: it lists this module among the ones that hold verbs."""
    from handlers.catalog import registry

    return registry()
