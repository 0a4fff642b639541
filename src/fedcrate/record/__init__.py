"""Facts: what fedcrate captured about a run, as plain dataclasses (no rdflib, no flwr).

`run` holds the records every framework shares (`RunRecord`, sides, metrics, datasets);
`fedn` FEDn's own; `normalize` turns what users pass (people, licences, datasets) into
them; `redaction` keeps secrets out; `jsonable` gives records a JSON form (the journal).
Everything downstream is built from these.
"""

from __future__ import annotations

from fedcrate.record import fedn, run
from fedcrate.record.fedn import *  # noqa: F403
from fedcrate.record.run import *  # noqa: F403

__all__ = [*run.__all__, *fedn.__all__]
