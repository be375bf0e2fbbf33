"""Raw footage into clips: shot cuts, frame selection, clip folders and ``splits.csv`` rows (``mannequin ingest``)."""
