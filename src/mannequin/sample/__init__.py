"""The sample-scene renderer behind ``mannequin sample-data``: furnished rooms filmed by a hand-held camera.

Not clip I/O (that is :mod:`mannequin.clips`): it uses the clip writers to store what it renders.

- :mod:`~mannequin.sample.plan`: which clip gets which split, defect, storage form, size and pose scale;
- :mod:`~mannequin.sample.scene`, :mod:`~mannequin.sample.rooms`, :mod:`~mannequin.sample.textures`: the geometry
  and its surfaces; :mod:`~mannequin.sample.trajectory`: the camera paths;
- :mod:`~mannequin.sample.render`: ray casting to colour and exact depth;
- :mod:`~mannequin.sample.dataset`: render the planned clips and write the dataset;
- :mod:`~mannequin.sample.analytic`: a smaller analytic room with exact depth, the known answer of the MVS tests and
  benchmarks (not part of the sample dataset).
"""
