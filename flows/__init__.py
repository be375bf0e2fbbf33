"""Prefect flows: thin wiring around the mannequin library (curate, pipeline, deployments)."""
