"""Regressions: a run against its baselines (:mod:`.check`) and one operation measured A against B
(:mod:`.abtest`).
"""
