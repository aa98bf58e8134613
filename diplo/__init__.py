"""diplo: an event-sourced status service for diplomatic communication channels.

The one name diplo installs. Its parts live in the repository's top-level folders, linked here:
``diplo.events`` (the log), ``diplo.projections`` (the folds), ``diplo.service`` (HTTP, pages, CLI).
"""
