"""Depth metrics, evaluation of models on test clips, and reports."""
