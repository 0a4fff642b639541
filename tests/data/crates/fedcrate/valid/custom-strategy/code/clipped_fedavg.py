"""A custom aggregation strategy (test corpus stand-in)."""


class ClippedFedAvg:
    """FedAvg that clips each client update to `max_norm`."""

    max_norm = 1.0
