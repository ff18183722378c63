"""The incident's clock: the timing of its playbook at its current severity."""

from config.model import Config, Timing
from storage.models import Incident


def incident_timing(config: Config, incident: Incident) -> Timing:
    """The clock of the incident's playbook at its current severity."""
    return config.timing(config.playbooks[incident.playbook], incident.severity)
