"""The strict base model every params block derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Block(BaseModel):
    """A params.yaml block: unknown keys are errors, values are validated, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
