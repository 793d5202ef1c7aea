"""Products that exist nowhere else: not in the demo catalogue, the demo bundle or the demo gallery.

Tests and demos put one on the synthetic tray (``SyntheticSource.add_products`` + ``show``) to see
what the till does with a product it was never taught: an "unknown item" line, resolved by a
barcode scan, or taught at the till.  Each has a valid EAN-13 under its own GS1 prefix, a price and
a look of its own; ``unenrolled_product(n)`` is the same product every time for the same ``n``.
"""

from __future__ import annotations

from vision.catalogue import Look, Product, ean13

# (name, category, price, shape, (len, wid), depth, body BGR, accent BGR, text BGR, logo, brand, variant, size)
_NEW: tuple[tuple, ...] = (
    ("Crema de Mani Isla 340 g", "spreads", 12500, "box", (150, 150), 60, (200, 210, 40), (150, 20, 210),
     (20, 20, 20), "diamond", "ISLA", "CREMA DE MANI", "340 G"),
    ("Te Verde Montemar 20 sobres", "tea", 8900, "box", (175, 95), 70, (60, 230, 150), (20, 20, 20),
     (20, 20, 20), "wave", "MONTEMAR", "TE VERDE", "20 SOBRES"),
    ("Velas Luz de Oro 6 pack", "household", 7000, "pouch", (230, 120), 40, (120, 220, 250), (20, 20, 120),
     (20, 20, 120), "star", "LUZ DE ORO", "VELAS", "6 PACK"),
)


def unenrolled_product(n: int = 1) -> Product:
    """The ``n``-th product nobody enrolled (1-based; SKU ``NEW-0001`` ...), deterministic per ``n``."""
    if n < 1:
        raise ValueError(f"unenrolled products are numbered from 1, not {n}")
    (name, category, price, shape, size, depth, body, accent, text, logo, brand, variant,
     size_label) = _NEW[(n - 1) % len(_NEW)]
    if n > len(_NEW):
        name = f"{name} ({n})"
    look = Look(shape=shape, body=body, accent=accent, text=text, logo=logo, brand=brand, variant=variant,
                size_label=size_label)
    # GS1 prefix 200-299 is for in-store numbering: never a real product's barcode
    return Product(sku=f"NEW-{n:04d}", name=name, category=category, price=price,
                   barcode=ean13(f"29{n:010d}"), size_mm=size, depth_mm=depth, look=look)
