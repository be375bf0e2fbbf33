"""Deployment entry point of the pipeline flow (prefect.yaml: ``flows/pipeline.py:pipeline``).

The flow is :func:`mannequin.stages.pipeline.pipeline`: one Prefect task per dvc.yaml stage, run through DVC.
"""

from mannequin.stages.pipeline import pipeline

__all__ = ["pipeline"]

if __name__ == "__main__":
    pipeline()
