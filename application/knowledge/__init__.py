"""The knowledge base: documentation sources read into sections, and search for the agent.

- ``ingestion``: read a source (a folder) into documents and sections, and re-read it;
- ``search``: the answer agent's view of search, passages it can cite.
"""
