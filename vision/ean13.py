"""EAN-13 symbols: the bar pattern and a printable rendering (used on product art and in tests)."""

from __future__ import annotations

import cv2
import numpy as np

from vision.catalogue import is_valid_ean13

_L = ["0001101", "0011001", "0010011", "0111101", "0100011",
      "0110001", "0101111", "0111011", "0110111", "0001011"]
_R = ["".join("1" if b == "0" else "0" for b in code) for code in _L]
_G = [code[::-1] for code in _R]
_PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]


def ean13_modules(code: str) -> str:
    """The 95 modules ('1' = bar) of an EAN-13 code, guards included."""
    if not is_valid_ean13(code):
        raise ValueError(f"not a valid EAN-13 code: {code!r}")
    first, left, right = int(code[0]), code[1:7], code[7:]
    bits = ["101"]
    for digit, parity in zip(left, _PARITY[first], strict=True):
        bits.append((_L if parity == "L" else _G)[int(digit)])
    bits.append("01010")
    bits.extend(_R[int(d)] for d in right)
    bits.append("101")
    return "".join(bits)


def render_ean13(code: str, module_px: int = 3, bar_height_px: int = 90,
                 quiet_modules: int = 11, with_digits: bool = True) -> np.ndarray:
    """A black-on-white greyscale image of the symbol, quiet zones and human-readable digits included."""
    modules = ean13_modules(code)
    width = (95 + 2 * quiet_modules) * module_px
    text_h = int(module_px * 10) if with_digits else 0
    height = bar_height_px + text_h + 2 * module_px
    img = np.full((height, width), 255, np.uint8)
    x0 = quiet_modules * module_px
    guard = {0, 1, 2, 45, 46, 47, 48, 49, 92, 93, 94}
    for i, bit in enumerate(modules):
        if bit == "1":
            bottom = bar_height_px + (text_h // 2 if (with_digits and i in guard) else 0)
            img[module_px: module_px + bottom, x0 + i * module_px: x0 + (i + 1) * module_px] = 0
    if with_digits:
        scale = module_px * 0.28
        y = height - module_px
        cv2.putText(img, code[0], (max(0, x0 - 8 * module_px), y), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, 0, max(1, module_px // 2), cv2.LINE_AA)
        for group, start in ((code[1:7], 3), (code[7:], 50)):
            cv2.putText(img, group, (x0 + (start + 2) * module_px, y), cv2.FONT_HERSHEY_SIMPLEX,
                        scale, 0, max(1, module_px // 2), cv2.LINE_AA)
    return img
