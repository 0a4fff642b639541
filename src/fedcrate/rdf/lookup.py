"""Read-only lookups on a crate graph at dictionary speed, for the views that read it.

`describe` (the preview, `fedcrate show`) asks a crate's graph a few thousand small
questions: the value of a property, the objects of a subject, the subjects of a type. Each
`Graph.value` or `Graph.objects` call passes through three generators and a pattern match
in the store (~2-4 µs); for the crate the tracker has just built, the preview was a third
of writing it. A crate graph built by fedcrate lives in a `SimpleMemory` store, which is two
nested dictionaries (subject → predicate → objects, predicate → object → subjects) that
`GraphLookup` reads directly, in the store's own order, so every answer is the one the
Graph gives (a test compares them on every corpus crate). Any other store, or a store
laid out differently, is asked through the Graph as before.
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import Graph
from rdflib.plugins.stores.memory import SimpleMemory
from rdflib.term import Node

__all__ = ["GraphLookup"]

_Index = dict[Node, dict[Node, dict[Node, int]]]
_NO_TERMS: dict[Node, int] = {}
_NO_INDEX: dict[Node, dict[Node, int]] = {}


def _memory_indices(graph: Graph) -> tuple[_Index, _Index] | None:
    """The spo and pos dictionaries of a SimpleMemory store (rdflib 7's layout), else None."""
    store = graph.store
    if not isinstance(store, SimpleMemory):
        return None
    state = vars(store)
    spo, pos = state.get("_SimpleMemory__spo"), state.get("_SimpleMemory__pos")
    if type(spo) is not dict or type(pos) is not dict:
        return None
    return spo, pos


class GraphLookup:
    """The subset of `Graph`'s reading API the views use, answered from the store's indices.

    Only for reading: the graph must not change while a lookup is in use (the views build
    one per `describe` call).
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        indices = _memory_indices(graph)
        self._spo: _Index | None = indices[0] if indices is not None else None
        self._pos: _Index | None = indices[1] if indices is not None else None

    def value(self, subject: Node | None, predicate: Node) -> Node | None:
        """One object of `subject predicate`, as `Graph.value(subject, predicate)`."""
        if subject is None:
            return None  # Graph.value needs two of the three terms
        if self._spo is None:
            return self.graph.value(subject, predicate)
        for obj in self._spo.get(subject, _NO_INDEX).get(predicate, _NO_TERMS):
            return obj
        return None

    def objects(self, subject: Node | None, predicate: Node) -> Iterator[Node]:
        """The objects of `subject predicate`, as `Graph.objects`."""
        if self._spo is None or subject is None:
            return self.graph.objects(subject, predicate)
        return iter(list(self._spo.get(subject, _NO_INDEX).get(predicate, _NO_TERMS)))

    def subjects(self, predicate: Node, obj: Node | None) -> Iterator[Node]:
        """The subjects of `predicate obj`, as `Graph.subjects`."""
        if self._pos is None or obj is None:
            return self.graph.subjects(predicate, obj)
        return iter(list(self._pos.get(predicate, _NO_INDEX).get(obj, _NO_TERMS)))

    def subject_objects(self, predicate: Node) -> Iterator[tuple[Node, Node]]:
        """Every (subject, object) of `predicate`, as `Graph.subject_objects`."""
        if self._pos is None:
            return self.graph.subject_objects(predicate)
        by_object = self._pos.get(predicate, _NO_INDEX)
        return iter([(s, o) for o, subjects in by_object.items() for s in subjects])

    def __contains__(self, triple: tuple[Node, Node, Node]) -> bool:
        """Whether the graph states `triple` (all three terms given)."""
        if self._spo is None:
            return triple in self.graph
        subject, predicate, obj = triple
        return obj in self._spo.get(subject, _NO_INDEX).get(predicate, _NO_TERMS)
