"""Deployment entry point of the curate flow (``prefect deploy flows/curate.py:curate_flow``).

The flow is :func:`mannequin.stages.curate_flow.curate_flow`; ``mannequin curate`` runs it on the task runner its
params choose (:func:`mannequin.stages.curate_flow.run_curate`).
"""

from mannequin.stages.curate_flow import curate_flow, run_curate

__all__ = ["curate_flow", "run_curate"]
