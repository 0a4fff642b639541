"""Crates for people: the graph read into a view model, drawn on a terminal or as HTML.

`model.describe(graph)` reads a crate's runs into plain dataclasses (never the JSON);
`terminal` draws them with rich (`fedcrate show`), `preview` as the crate's
`ro-crate-preview.html`. Views read graphs only: they never open crates themselves.
"""
