"""The incident's clock: the timing of its playbook at its current severity."""

from handlers.core.context import Context


def incident_timing(ctx: Context):
    """The clock of the incident's playbook at its current severity."""
    return ctx.config.timing(ctx.config.playbooks[ctx.incident.playbook], ctx.incident.severity)
