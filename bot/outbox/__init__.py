"""The outbox: leases, the delivery worker, its table of effect kinds, give-up notices, the reminders timer, retention."""
