"""Product categories from a line's SKU and name, for basket mixes and segment profiles.

Devices send no category, and the imported retailer has none, so the hub derives one: a store's
``sku_overrides.<SKU>.category`` wins; otherwise the first rule below whose words appear in the
upper-cased name (whole words, singular or plural); otherwise ``uncategorised``.  Non-product codes
(postage, fees, discounts, manual adjustments) are ``service``: they count in a sale's value but
get no forecast and no reorder advice.  The rules are written for general merchandise and
groceries; docs/analytics.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

SERVICE = "service"
UNCATEGORISED = "uncategorised"

# Codes that are not products in the Online Retail data and in most till exports.
SERVICE_SKUS = frozenset({"POST", "DOT", "C2", "M", "D", "S", "B", "CRUK", "PADS", "AMAZONFEE", "BANK CHARGES",
                          "ADJUST", "ADJUST2", "TEST001", "TEST002"})

# (category, words), first match wins: the more specific rules come first.  Grocery comes last
# (so a "MILK JUG" is kitchenware) and also takes any name with a pack size ("RICE 5LB").
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (SERVICE, ("POSTAGE", "CARRIAGE", "DISCOUNT", "MANUAL", "SAMPLES", "BANK CHARGES", "AMAZON FEE", "DOTCOM",
               "ADJUST BAD DEBT", "DEPOSIT", "DELIVERY CHARGE")),
    ("seasonal", ("CHRISTMAS", "XMAS", "ADVENT", "EASTER", "SANTA", "REINDEER", "SNOWFLAKE", "HALLOWEEN",
                  "NATIVITY", "BAUBLE", "VALENTINE", "SNOWMAN")),
    ("candles & lighting", ("CANDLE", "T-LIGHT", "TEALIGHT", "LANTERN", "LIGHT", "LAMP", "NIGHTLIGHT", "INCENSE",
                            "CHANDELIER", "OIL BURNER")),
    ("jewellery & accessories", ("NECKLACE", "BRACELET", "EARRINGS", "CHARM", "BEAD", "DIAMANTE", "HAIR", "PURSE",
                                 "UMBRELLA", "BROOCH", "SCARF", "GLOVES", "HAND WARMER", "KEY RING", "KEYRING",
                                 "HANDBAG", "WALLET", "SUNGLASSES", "JEWELLERY", "BLING", "RING")),
    ("stationery & gift wrap", ("CARD", "WRAP", "PAPER", "NOTEBOOK", "PEN", "PENCIL", "STICKER", "ENVELOPE",
                                "BOOK", "CALENDAR", "TAPE", "TAG", "RIBBON", "NOTEPAD", "ERASER", "CHALK", "JOURNAL",
                                "DIARY", "POSTCARD", "STATIONERY", "MAGNET", "CRAYON", "TISSUE")),
    ("toys & party", ("TOY", "GAME", "JIGSAW", "PUZZLE", "DOLL", "DOLLY", "PLAYHOUSE", "SKITTLES", "BALLOON",
                      "PARTY", "BUNTING", "CHILDRENS", "CHILDS", "KIDS", "BALL", "FELTCRAFT", "DOMINOES",
                      "MARBLES", "SOLDIER", "TEDDY", "BIRTHDAY", "SPACEBOY", "DINOSAUR", "NINJA", "POPCORN",
                      "PARASOL", "STRAWS", "MASK")),
    ("home textiles", ("CUSHION", "APRON", "TOWEL", "BLANKET", "THROW", "HOT WATER BOTTLE", "QUILT", "CURTAIN",
                       "TEA COSY", "OVEN GLOVE", "TEA TOWEL", "PICNIC BLANKET", "BEDSPREAD")),
    ("kitchen & dining", ("MUG", "CUP", "SAUCER", "PLATE", "BOWL", "JUG", "TEA", "TEAPOT", "COFFEE", "CAKE",
                          "BAKING", "CUTLERY", "SPOON", "FORK", "KNIFE", "NAPKIN", "TRAY", "KITCHEN", "PANTRY",
                          "JAM", "JAR", "LUNCH", "BOTTLE", "DISH", "PAN", "TUMBLER", "CHOPPING", "COASTER",
                          "PLACEMAT", "DOILY", "DOILIES", "BISCUIT", "RECIPE", "EGG CUP", "SCALES", "MOULD",
                          "TEATIME", "BEAKER", "GLASSES", "COOKIE", "SWEETIE", "CHOCOLATE", "BREAD BIN", "TIFFIN")),
    ("bags & storage", ("BAG", "BOX", "STORAGE", "BASKET", "TIN", "DRAWER", "CABINET", "CRATE", "HAMPER", "TRUNK",
                        "CHEST", "SHOPPER", "TOTE", "CASE", "HOLDALL", "SUITCASE", "WASHBAG")),
    ("garden & outdoor", ("GARDEN", "WATERING", "PLANT", "PLANTER", "FLOWER POT", "HERB", "BIRD HOUSE",
                          "BIRDHOUSE", "BIRD FEEDER", "PICNIC", "WINDMILL", "TRELLIS", "SEED", "GNOME")),
    ("bath & beauty", ("BATH", "BATHROOM", "SOAP", "SPONGE", "MAKE UP", "COSMETIC", "LIP", "NAIL", "PLASTERS",
                       "PERFUME", "SHAMPOO", "TOOTHBRUSH", "MIRROR COMPACT")),
    ("home decor", ("SIGN", "FRAME", "CLOCK", "MIRROR", "HOOK", "HANGER", "DECORATION", "ORNAMENT", "WREATH",
                    "GARLAND", "DOORMAT", "DOORSTOP", "VASE", "WALL", "PLAQUE", "TILE", "KNOB", "HOLDER", "BELL",
                    "COAT", "HEART", "BUTTERFLY", "CANDLESTICK", "BIRD", "DOOR", "PHOTO", "FLOWER", "FLOWERS",
                    "STAND", "RACK", "SHELF", "WICKER", "FAN", "CHIME", "POT", "SCULPTURE", "FIGURE", "BUNNY")),
    ("grocery", ("RICE", "BEANS", "FLOUR", "SUGAR", "MILK", "BREAD", "EGGS", "PASTA", "SALT", "COFFEE BEANS",
                 "CEREAL", "SARDINES", "TUNA", "SOUP", "CHEESE", "BUTTER", "JUICE", "SODA", "WATER 500ML", "BEER",
                 "RUM", "CHIPS", "COOKIES", "CANDY BAR")),
)


# A pack size in the name ("RICE 5LB", "MILK 1 L", "SODA 500ML") marks a grocery product.
_GROCERY_SIZE = re.compile(r"(?<![A-Z0-9])\d+(?:[.,]\d+)?\s?(?:KG|G|LB|LBS|OZ|L|ML|CL)(?![A-Z0-9])")


def _word_pattern(word: str) -> str:
    inner = r"\s+".join(re.escape(part) for part in word.split())
    return rf"(?<![A-Z0-9]){inner}(?:S|ES)?(?![A-Z0-9])"


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((cat, re.compile("|".join(_word_pattern(w) for w in words))) for cat, words in RULES)


@lru_cache(maxsize=200_000)
def _by_rules(sku: str, name: str) -> str:
    if sku.upper() in SERVICE_SKUS:
        return SERVICE
    text = name.upper()
    for category, pattern in _compiled():
        if pattern.search(text) or (category == "grocery" and _GROCERY_SIZE.search(text)):
            return category
    return UNCATEGORISED


def categorise(sku: str, name: str, overrides: Mapping[str, str] | None = None) -> str:
    """The category of one product: the store's override, else the first matching rule."""
    if overrides and sku in overrides:
        return overrides[sku]
    return _by_rules(sku, name or "")


def categorise_many(pairs: Iterable[tuple[str, str]], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{sku: category}`` for distinct (sku, name) pairs (the first name seen of a SKU wins)."""
    out: dict[str, str] = {}
    for sku, name in pairs:
        if sku not in out:
            out[sku] = categorise(sku, name, overrides)
    return out
