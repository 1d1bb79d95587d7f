"""Answering questions: the product's main use case.

- ``pipeline``: a new question, or what an earlier run of its job left undone;
- ``again``: a new answer beside the old ones (the admin's "answer again");
- ``generation``: the answer agent through the one runner (``application.model_runs``);
- ``live``: the status and the answer shown while the model writes it;
- ``delivery``: the finished answer delivered exactly once, or the apology;
- ``storing``: the pipeline's writes, each one transaction;
- ``agent``, ``offline_model``: the answer agent and the model that needs no provider;
- ``passages``: the knowledge base as the agent sees it, search results it can cite;
- ``messenger``: what the pipeline needs from Slack (or the terminal), as a protocol.
"""
