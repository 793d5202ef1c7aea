"""Product finder back ends (``vision.finder.Finder``): one module per back end.

- ``onnx_finder``: the trained class-blind finder network (``models/finder``);
- ``bundle_finder``: a trained YOLO model bundle read class-blind, for bundles that ship no finder.
"""
