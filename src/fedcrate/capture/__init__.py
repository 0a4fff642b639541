"""Adapters: facts from a framework (Flower, FEDn, FLIP) or the environment into records.

Each module here may import its framework; none mints triples: adapters fill records
(`fedcrate.record`), normalise what users pass through `record.normalize`, and hand the
record to the crate writer. A new framework is a new adapter here (and, only if it brings
new concepts, one module under `rdf/` and one shapes file).
"""
