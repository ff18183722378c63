"""The states of a version of the line and of a publication: the small vocabulary every part of the line shares."""

PENDING, APPROVED, SUPERSEDED, REJECTED = "pending", "approved", "superseded", "rejected"


CARRYING = ("queued", "sent")  # a publication that went out or is on its way
