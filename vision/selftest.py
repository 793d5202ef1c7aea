"""The bundle self-test: the model must load and find exactly the expected products in its test image."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import cv2

from vision.bundle import BundleError
from vision.detector import Detector


@dataclass(frozen=True)
class SelfTestResult:
    passed: bool
    expected: dict[str, int]
    found: dict[str, int]
    message: str


def run_self_test(detector: Detector) -> SelfTestResult:
    st = detector.manifest.selftest
    image = cv2.imread(str(st.image), cv2.IMREAD_COLOR)
    if image is None:
        raise BundleError(f"{st.image}: self-test image missing or unreadable")
    found = dict(Counter(d.sku or "unknown item" for d in detector.detect(image)))
    passed = found == st.expected
    if passed:
        msg = f"self-test passed: {sum(found.values())} items as expected"
    else:
        missing = {k: v - found.get(k, 0) for k, v in st.expected.items() if found.get(k, 0) < v}
        extra = {k: v - st.expected.get(k, 0) for k, v in found.items() if st.expected.get(k, 0) < v}
        msg = f"self-test failed: missing {missing or 'nothing'}, unexpected {extra or 'nothing'}"
    return SelfTestResult(passed, dict(st.expected), found, msg)
