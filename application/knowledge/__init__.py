"""The knowledge base: documentation sources read into documents and sections.

- ``ingestion``: read a folder into documents and sections, and re-read it; the decoding,
  parsing and storing every kind of source goes through.
- ``sources``: sync a source of any kind (on demand, on its schedule) and record its status.
- ``web_sync``, ``git_sync``: read a web site's pages, a git repository's changed files.

Search itself is a query (``domain.knowledge.search``); the answer agent's view of it is
``application.answering.passages``.
"""
