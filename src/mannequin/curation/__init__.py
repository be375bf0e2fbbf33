"""Curation: MVS depth targets, clip quality, decisions, data-quality gates and curated storage."""
