"""The knowledge base: documentation sources read into documents and sections.

- ``ingestion``: read a source (a folder) into documents and sections, and re-read it.

Search itself is a query (``domain.knowledge.search``); the answer agent's view of it is
``application.answering.passages``.
"""
