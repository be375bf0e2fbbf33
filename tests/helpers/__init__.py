"""Helpers the tests share: plain functions and data builders (fixtures live in the ``conftest.py`` files).

Imported absolutely, ``from tests.helpers.<module> import ...``; benchmarks never import them.
"""
