"""The ``real_depth`` block of params.yaml: every model on real scenes with true depth (``make real-depth``)."""

from __future__ import annotations

from pydantic import Field, model_validator

from mannequin.config.base import Block


class RealDepthParams(Block):
    """Real test clips (``mannequin real-data``) and how every model is scored on them (``mannequin real-depth``).

    ``data`` is the folder ``mannequin real-data`` writes; ``castel`` the ViSP castel folder (None: Debian's
    ``visp-images-data`` folder when it is installed, else the clip is skipped with one line); ``middlebury`` a
    folder with the Motorcycle pair (None: scikit-image's). Every model under ``models`` is scored median-aligned
    between ``min_depth`` and ``max_depth``; the parallax input is swept at ``sweep_width`` pixels wide (None:
    ``curate.max_width``, as the ``parallax`` stage does). ``out`` receives ``real_depth.json`` and the SfM poses.
    The ``report`` reads ``out`` when it holds a result (``report.real_depth``): it is not a DVC stage.
    """

    data: str = Field("real/data", description="where mannequin real-data writes the real test clips")
    castel: str | None = Field(None, description="ViSP's castel folder; null: visp-images-data's, if installed")
    middlebury: str | None = Field(None, description="a folder with the Motorcycle pair; null: scikit-image's")
    models: str = Field("models", description="every model folder under this is scored")
    out: str = Field("real", description="real_depth.json and the SfM poses")
    sweep_width: int | None = Field(None, ge=16, description="the parallax sweep's width (px); null: curate.max_width")
    min_depth: float = Field(1e-3, gt=0, description="true depth scored above this")
    max_depth: float = Field(10.0, gt=0, description="true depth scored below this")
    batch_size: int = Field(8, ge=1, description="frames per forward pass")

    @model_validator(mode="after")
    def _range(self) -> RealDepthParams:
        if self.min_depth >= self.max_depth:
            raise ValueError(f"min_depth ({self.min_depth}) must be below max_depth ({self.max_depth})")
        return self
