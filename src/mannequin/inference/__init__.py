"""Inference on a user's clip with a trained model folder (``mannequin predict``)."""
