"""The demo catalogue: products a Caribbean or West African mini-market sells.

Each product carries what the till needs (SKU, name, price in minor units, EAN-13,
category) and what the renderer needs to draw it the same way every time (shape,
physical size in millimetres, palette, brand, variant text).  Several products are
deliberately look-alikes: one brand in two sizes or in several flavours.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

SHAPES = ("box", "can", "bottle", "bag", "carton", "pouch")

Colour = tuple[int, int, int]  # BGR, as OpenCV draws


@dataclass(frozen=True)
class Look:
    """How a product is drawn: the same SKU always renders the same way."""

    shape: str
    body: Colour
    accent: Colour
    text: Colour
    logo: str  # circle | star | diamond | stripes | sun | wave | leaf
    brand: str
    variant: str
    size_label: str


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: int  # minor units (centavos)
    barcode: str  # EAN-13, check digit included
    size_mm: tuple[int, int]  # footprint lying on the tray: length, width
    depth_mm: int  # the third dimension (height when lying down)
    look: Look
    family: str = ""  # look-alike group (same brand, other size or flavour)
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        data = asdict(self)
        data["size_mm"] = list(self.size_mm)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Product:
        look = Look(**{**data["look"], "body": tuple(data["look"]["body"]),
                       "accent": tuple(data["look"]["accent"]), "text": tuple(data["look"]["text"])})
        return cls(
            sku=data["sku"], name=data["name"], category=data["category"], price=int(data["price"]),
            barcode=data["barcode"], size_mm=(int(data["size_mm"][0]), int(data["size_mm"][1])),
            depth_mm=int(data["depth_mm"]), look=look, family=data.get("family", ""),
            extra=dict(data.get("extra", {})),
        )


def ean13_check_digit(first12: str) -> str:
    """The EAN-13 check digit of a 12-digit string."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError(f"EAN-13 needs 12 digits before the check digit, got {first12!r}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def ean13(first12: str) -> str:
    return first12 + ean13_check_digit(first12)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


def _palette(seed: str) -> tuple[Colour, Colour, Colour]:
    """A deterministic fallback palette for a name."""
    h = zlib.crc32(seed.encode())
    body = ((h >> 0) & 0xFF, (h >> 8) & 0xFF, (h >> 16) & 0xFF)
    accent = (255 - body[0], (body[1] + 128) % 256, (body[2] + 64) % 256)
    return body, accent, (255, 255, 255)


# (sku, name, category, price, shape, (len, wid), depth, body BGR, accent BGR, text BGR, logo,
#  brand, variant, size label, family)
_ROWS: list[tuple] = [
    ("RICE-LG-2LB", "Arroz La Garza 2 lb", "grains", 7500, "bag", (215, 145), 50,
     (235, 235, 240), (40, 140, 40), (30, 90, 20), "leaf", "LA GARZA", "ARROZ SELECTO", "2 LB", "rice-lagarza"),
    ("RICE-LG-5LB", "Arroz La Garza 5 lb", "grains", 17500, "bag", (300, 200), 70,
     (235, 235, 240), (40, 140, 40), (30, 90, 20), "leaf", "LA GARZA", "ARROZ SELECTO", "5 LB", "rice-lagarza"),
    ("RICE-PAR-5LB", "Parboiled Rice Golden 5 lb", "grains", 19500, "bag", (290, 195), 70,
     (60, 170, 230), (20, 40, 160), (255, 255, 255), "sun", "GOLDEN", "PARBOILED", "5 LB", ""),
    ("BEAN-RED-1LB", "Habichuelas Rojas 1 lb", "grains", 6500, "bag", (185, 120), 45,
     (50, 40, 170), (230, 230, 230), (255, 255, 255), "circle", "CAMPO", "HABICHUELAS ROJAS", "1 LB", "beans-campo"),
    ("BEAN-BLK-1LB", "Habichuelas Negras 1 lb", "grains", 6500, "bag", (185, 120), 45,
     (40, 30, 30), (230, 230, 230), (255, 255, 255), "circle", "CAMPO", "HABICHUELAS NEGRAS", "1 LB", "beans-campo"),
    ("BEAN-CAN-15OZ", "Habichuelas Guisadas Lata 15 oz", "canned", 5500, "can", (115, 76), 76,
     (30, 60, 140), (60, 200, 240), (255, 255, 255), "star", "CAMPO", "GUISADAS", "15 OZ", ""),
    ("OIL-SOL-1L", "Aceite Sol Dorado 1 L", "oil", 21000, "bottle", (290, 85), 85,
     (40, 200, 240), (20, 100, 20), (20, 60, 20), "sun", "SOL DORADO", "ACEITE VEGETAL", "1 L", "oil-sol"),
    ("OIL-SOL-500ML", "Aceite Sol Dorado 500 ml", "oil", 11500, "bottle", (225, 68), 68,
     (40, 200, 240), (20, 100, 20), (20, 60, 20), "sun", "SOL DORADO", "ACEITE VEGETAL", "500 ML", "oil-sol"),
    ("SUGAR-2LB", "Azucar Crema 2 lb", "grains", 6000, "bag", (200, 135), 50,
     (200, 220, 245), (40, 80, 200), (40, 40, 120), "diamond", "DULCERIA", "AZUCAR CREMA", "2 LB", ""),
    ("PASTA-SPAG-400", "Spaghetti Milano 400 g", "pasta", 4500, "box", (260, 75), 30,
     (160, 60, 20), (40, 200, 250), (255, 255, 255), "stripes", "MILANO", "SPAGHETTI", "400 G", "pasta-milano"),
    ("PASTA-CODO-400", "Coditos Milano 400 g", "pasta", 4500, "pouch", (190, 130), 40,
     (160, 60, 20), (40, 200, 250), (255, 255, 255), "stripes", "MILANO", "CODITOS", "400 G", "pasta-milano"),
    ("SARD-TOM-155", "Sardinas Mar Azul en Tomate 155 g", "canned", 6000, "can", (105, 74), 40,
     (140, 60, 10), (40, 40, 210), (255, 255, 255), "wave", "MAR AZUL", "EN TOMATE", "155 G", "sardine-marazul"),
    ("SARD-OIL-155", "Sardinas Mar Azul en Aceite 155 g", "canned", 6000, "can", (105, 74), 40,
     (140, 60, 10), (40, 190, 230), (255, 255, 255), "wave", "MAR AZUL", "EN ACEITE", "155 G", "sardine-marazul"),
    ("TUNA-170", "Atun Del Caribe 170 g", "canned", 8500, "can", (85, 85), 40,
     (200, 120, 30), (255, 255, 255), (255, 255, 255), "wave", "DEL CARIBE", "ATUN EN AGUA", "170 G", ""),
    ("TOMPASTE-70", "Pasta de Tomate Rojita 70 g", "canned", 2500, "pouch", (110, 75), 15,
     (30, 30, 200), (60, 160, 60), (255, 255, 255), "circle", "ROJITA", "PASTA DE TOMATE", "70 G", ""),
    ("TOMSAUCE-8OZ", "Salsa de Tomate Rojita 8 oz", "canned", 3500, "can", (100, 70), 70,
     (30, 30, 200), (60, 200, 240), (255, 255, 255), "circle", "ROJITA", "SALSA", "8 OZ", ""),
    ("BEER-PRZ-355", "Cerveza Brisa Can 355 ml", "beer", 9000, "can", (122, 66), 66,
     (40, 110, 30), (240, 240, 240), (255, 255, 255), "star", "BRISA", "CERVEZA", "355 ML", "beer-brisa"),
    ("BEER-PRZ-650", "Cerveza Brisa Grande 650 ml", "beer", 15000, "bottle", (290, 78), 78,
     (30, 80, 20), (240, 240, 240), (255, 255, 255), "star", "BRISA", "CERVEZA", "650 ML", "beer-brisa"),
    ("BEER-STOUT-330", "Stout Noche 330 ml", "beer", 11000, "bottle", (235, 64), 64,
     (25, 25, 25), (30, 170, 220), (255, 255, 255), "diamond", "NOCHE", "STOUT", "330 ML", ""),
    ("MALT-SOL-355", "Malta Solar 355 ml", "malt", 6000, "can", (122, 66), 66,
     (20, 60, 110), (30, 180, 240), (255, 255, 255), "sun", "MALTA SOLAR", "MALTA", "355 ML", ""),
    ("MALT-GUIN-330", "Malta Vigor 330 ml", "malt", 6500, "bottle", (230, 64), 64,
     (10, 20, 60), (200, 200, 200), (255, 255, 255), "stripes", "VIGOR", "MALTA", "330 ML", ""),
    ("SODA-FRU-MER", "Frutiva Merengue 355 ml", "soda", 4500, "can", (122, 66), 66,
     (200, 60, 220), (250, 250, 250), (255, 255, 255), "circle", "FRUTIVA", "MERENGUE", "355 ML", "soda-frutiva"),
    ("SODA-FRU-UVA", "Frutiva Uva 355 ml", "soda", 4500, "can", (122, 66), 66,
     (130, 30, 90), (250, 250, 250), (255, 255, 255), "circle", "FRUTIVA", "UVA", "355 ML", "soda-frutiva"),
    ("SODA-FRU-NAR", "Frutiva Naranja 355 ml", "soda", 4500, "can", (122, 66), 66,
     (20, 130, 250), (250, 250, 250), (255, 255, 255), "circle", "FRUTIVA", "NARANJA", "355 ML", "soda-frutiva"),
    ("SODA-KOLA-2L", "Kola Real 2 L", "soda", 12000, "bottle", (330, 105), 105,
     (30, 30, 200), (30, 200, 250), (255, 255, 255), "star", "KOLA REAL", "COLA", "2 L", "soda-kola"),
    ("SODA-KOLA-600", "Kola Real 600 ml", "soda", 5000, "bottle", (235, 70), 70,
     (30, 30, 200), (30, 200, 250), (255, 255, 255), "star", "KOLA REAL", "COLA", "600 ML", "soda-kola"),
    ("WATER-500", "Agua Cristal 500 ml", "water", 2500, "bottle", (215, 65), 65,
     (230, 200, 160), (200, 100, 20), (160, 60, 10), "wave", "CRISTAL", "AGUA PURIFICADA", "500 ML", "water-cristal"),
    ("WATER-1500", "Agua Cristal 1.5 L", "water", 5000, "bottle", (310, 88), 88,
     (230, 200, 160), (200, 100, 20), (160, 60, 10), "wave", "CRISTAL", "AGUA PURIFICADA", "1.5 L", "water-cristal"),
    ("JUICE-MANGO-1L", "Jugo Tropical Mango 1 L", "juice", 9500, "carton", (195, 95), 60,
     (20, 160, 250), (30, 140, 30), (40, 40, 40), "leaf", "TROPICAL", "MANGO", "1 L", "juice-tropical"),
    ("JUICE-GUAVA-1L", "Jugo Tropical Guayaba 1 L", "juice", 9500, "carton", (195, 95), 60,
     (120, 90, 240), (30, 140, 30), (40, 40, 40), "leaf", "TROPICAL", "GUAYABA", "1 L", "juice-tropical"),
    ("MILK-1L", "Leche Entera Vaquita 1 L", "dairy", 8000, "carton", (195, 95), 60,
     (245, 245, 245), (200, 80, 20), (200, 80, 20), "circle", "VAQUITA", "LECHE ENTERA", "1 L", ""),
    ("MILK-EVAP-315", "Leche Evaporada Vaquita 315 g", "dairy", 6500, "can", (100, 75), 75,
     (245, 245, 245), (40, 40, 200), (200, 80, 20), "circle", "VAQUITA", "EVAPORADA", "315 G", ""),
    ("MILK-PWD-360", "Leche en Polvo Nido-Sol 360 g", "dairy", 32000, "pouch", (220, 160), 50,
     (200, 150, 40), (250, 250, 250), (255, 255, 255), "sun", "NIDO-SOL", "LECHE EN POLVO", "360 G", ""),
    ("CHIPS-PLAT-85", "Platanitos Crocante 85 g", "snacks", 4000, "bag", (200, 140), 40,
     (40, 200, 60), (20, 220, 250), (20, 40, 20), "leaf", "CROCANTE", "PLATANITOS", "85 G", ""),
    ("CHIPS-CHICH-60", "Chicharrones Picoso 60 g", "snacks", 3500, "bag", (180, 125), 40,
     (20, 100, 230), (20, 20, 160), (255, 255, 255), "star", "PICOSO", "CHICHARRONES", "60 G", ""),
    ("BISC-SOL-VAN", "Galletas Sol Vainilla", "biscuits", 3000, "box", (165, 70), 35,
     (180, 230, 250), (30, 90, 200), (30, 60, 140), "sun", "GALLETAS SOL", "VAINILLA", "200 G", "biscuits-sol"),
    ("BISC-SOL-CHO", "Galletas Sol Chocolate", "biscuits", 3200, "box", (165, 70), 35,
     (40, 70, 110), (30, 90, 200), (200, 230, 250), "sun", "GALLETAS SOL", "CHOCOLATE", "200 G", "biscuits-sol"),
    ("CRACKER-SODA", "Galletas de Soda Crujis", "biscuits", 5500, "box", (210, 110), 60,
     (200, 50, 30), (250, 250, 250), (255, 255, 255), "diamond", "CRUJIS", "SODA CRACKERS", "300 G", ""),
    ("SOAP-BAR-3PK", "Jabon Aroma 3 pack", "household", 9000, "box", (160, 100), 35,
     (200, 170, 240), (120, 40, 120), (90, 20, 90), "leaf", "AROMA", "JABON DE TOCADOR", "3 X 110 G", ""),
    ("SOAP-CUABA", "Jabon de Cuaba", "household", 3000, "box", (110, 65), 35,
     (100, 180, 220), (30, 80, 140), (20, 40, 90), "diamond", "CUABA", "JABON DE LAVAR", "250 G", ""),
    ("DETERG-1KG", "Detergente Blancura 1 kg", "household", 14500, "pouch", (250, 170), 60,
     (200, 90, 10), (20, 220, 250), (255, 255, 255), "star", "BLANCURA", "DETERGENTE", "1 KG", "deterg-blancura"),
    ("DETERG-500G", "Detergente Blancura 500 g", "household", 7800, "pouch", (195, 135), 45,
     (200, 90, 10), (20, 220, 250), (255, 255, 255), "star", "BLANCURA", "DETERGENTE", "500 G", "deterg-blancura"),
    ("TP-4PK", "Papel Higienico Suave 4 rollos", "household", 11000, "bag", (220, 210), 110,
     (250, 240, 230), (180, 110, 40), (150, 80, 20), "wave", "SUAVE", "PAPEL HIGIENICO", "4 ROLLOS", ""),
    ("MATCH-10PK", "Fosforos Fuego 10 cajitas", "household", 2500, "box", (110, 75), 30,
     (30, 30, 180), (30, 200, 250), (255, 255, 255), "star", "FUEGO", "FOSFOROS", "10 X 40", ""),
    ("BATT-AA-4", "Pilas Energia AA 4 pack", "household", 16000, "box", (120, 90), 20,
     (20, 20, 20), (20, 180, 250), (255, 255, 255), "stripes", "ENERGIA", "PILAS AA", "4 PACK", "batt-energia"),
    ("BATT-D-2", "Pilas Energia D 2 pack", "household", 18000, "box", (150, 105), 40,
     (20, 20, 20), (20, 180, 250), (255, 255, 255), "stripes", "ENERGIA", "PILAS D", "2 PACK", "batt-energia"),
    ("SALAMI-500", "Salami Don Pepe 500 g", "deli", 16500, "pouch", (210, 90), 60,
     (30, 30, 150), (40, 190, 240), (255, 255, 255), "diamond", "DON PEPE", "SALAMI", "500 G", ""),
    ("COFFEE-227", "Cafe Montana 227 g", "grains", 14000, "pouch", (170, 115), 45,
     (20, 50, 90), (30, 160, 230), (230, 240, 250), "leaf", "MONTANA", "CAFE MOLIDO", "227 G", ""),
]


def _ean_for(index: int) -> str:
    # GS1 prefix 746 is the Dominican Republic; a fictional company code follows.
    return ean13(f"746{770000 + index * 37:06d}{index:03d}"[:12])


def demo_catalogue() -> list[Product]:
    """The demo catalogue, in a stable order (the order defines nothing: bundles carry their own map)."""
    products = []
    for i, row in enumerate(_ROWS):
        (sku, name, category, price, shape, size, depth, body, accent, text, logo,
         brand, variant, size_label, family) = row
        look = Look(shape=shape, body=body, accent=accent, text=text, logo=logo,
                    brand=brand, variant=variant, size_label=size_label)
        products.append(Product(sku=sku, name=name, category=category, price=price,
                                barcode=_ean_for(i + 1), size_mm=size, depth_mm=depth,
                                look=look, family=family))
    return products


def catalogue_by_sku(products: Iterable[Product]) -> dict[str, Product]:
    return {p.sku: p for p in products}


def write_catalogue_json(products: Iterable[Product], path: Path) -> None:
    path.write_text(json.dumps([p.to_json() for p in products], indent=2))


def read_catalogue_json(path: Path) -> list[Product]:
    return [Product.from_json(row) for row in json.loads(path.read_text())]
