"""Release notes for a git range: the offline classification, improved by models when set.

- ``generating``: the use case (read, classify, ask the models, render, store, post);
- ``improving``: the model side, through the one agent runner (imported only with a model);
- ``commit_classifier``, ``highlights_writer``: the two agents;
- ``progress``: how a long run reports how far it got.
"""
