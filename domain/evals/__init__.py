"""Evals: question sets with known right answers, scored against what the pipeline did.

- ``cases``: a case, and the documented file format of a question set (pure);
- ``scoring``: hit@k, required facts, coverage, pass or fail, totals (pure);
- ``comparison``: regressions against an earlier run (pure);
- ``records``: the admin's eval cases, the documents search found, stored runs.
"""
