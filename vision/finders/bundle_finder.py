"""A trained YOLO model bundle read class-blind: a product finder for bundles that ship no finder.

Every box the bundle's head scores above the finder's confidence, whatever its class, then one
class-blind NMS (two boxes on one product are one product, whichever SKUs the head thought).  The
head's reading of each kept box (its SKU, probability and runners-up) comes along in
:meth:`BundleFinder.find_with_classes`, so the recogniser can let the trained class head vote
where it knows the SKU; :meth:`BundleFinder.find` is the plain ``vision.finder.Finder`` contract.
The box's score is its best class probability: low for a product the head never saw, so the
finder's confidence is lower than the bundle's operating one.
"""

from __future__ import annotations

import numpy as np

from vision.detector import Detection, Detector, decode_yolo
from vision.finder import FoundBox
from vision.frames import normalise_frame

DEFAULT_CONFIDENCE = 0.2
DEFAULT_NMS_IOU = 0.5


class BundleFinder:
    """Finds products with a loaded :class:`vision.detector.Detector`'s network, class ignored."""

    def __init__(self, detector: Detector, confidence: float = DEFAULT_CONFIDENCE, nms_iou: float = DEFAULT_NMS_IOU):
        if not 0 < confidence < 1 or not 0 < nms_iou < 1:
            raise ValueError(f"bundle finder: confidence {confidence} and nms_iou {nms_iou} must be in (0, 1)")
        self.detector = detector
        self.confidence = confidence
        self.nms_iou = nms_iou

    @property
    def identity(self) -> dict[str, str]:
        return {"name": "bundle-class-blind", "version": self.detector.manifest.version}

    def find(self, image: np.ndarray) -> list[FoundBox]:
        return [found for found, _ in self.find_with_classes(image)]

    def find_with_classes(self, image: np.ndarray) -> list[tuple[FoundBox, Detection]]:
        """Each found product, best first, with the class head's reading of its box."""
        frame = normalise_frame(image)
        det = self.detector
        raw, lb = det.infer_raw(frame)
        # class-aware NMS at the bundle's IoU, then every remaining overlap merged whatever the class
        boxes, scores, classes, alt_ids, alt_scores = decode_yolo(raw, self.confidence, det.iou, det.alternatives,
                                                                  self.nms_iou)
        if boxes.shape[0] == 0:
            return []
        h, w = frame.shape[:2]
        boxes = lb.to_frame(boxes, w, h)
        names = det.classes
        out = []
        for i in range(boxes.shape[0]):
            box = (float(boxes[i, 0]), float(boxes[i, 1]), float(boxes[i, 2]), float(boxes[i, 3]))
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                continue
            alts = tuple((names[int(c)], float(s)) for c, s in zip(alt_ids[i, 1:], alt_scores[i, 1:], strict=True)
                         if s > 0.01)
            head = Detection(names[int(classes[i])], int(classes[i]), float(scores[i]), box, alts)
            out.append((FoundBox(box, float(scores[i])), head))
        return out
