"""The sample company's master data: categories, suppliers, locations and items.

Each category carries its demand character (seasonal peak, weekend lift, share of slow movers, holiday
effects) and its suppliers; each supplier its delivery behaviour (nominal lead time, how often and how
late it delivers, short deliveries, a drift later in the last months for one of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True, slots=True)
class SupplierProfile:
    """How a sample supplier delivers.

    Attributes:
        supplier_id, name: identity.
        lead_time_days: nominal (promised) lead time.
        review_weekdays: weekdays (0 = Monday) the company reviews this supplier's items.
        review_every_weeks: 1 = every week, 2 = every other week.
        p_late: probability that a delivery is late.
        late_days: (low, high) days late when late.
        p_early: probability that it comes a day or two early.
        p_short: probability that a line is delivered short.
        short_fraction: (low, high) fraction received on a short line.
        drift_days: extra delay reached at the end, growing linearly over the last ``drift_window_days``.
        drift_window_days: length of the drift (0 = no drift).
    """

    supplier_id: str
    name: str
    lead_time_days: int
    review_weekdays: tuple[int, ...]
    review_every_weeks: int = 1
    p_late: float = 0.1
    late_days: tuple[int, int] = (1, 3)
    p_early: float = 0.05
    p_short: float = 0.02
    short_fraction: tuple[float, float] = (0.6, 0.95)
    drift_days: float = 0.0
    drift_window_days: int = 0


SUPPLIERS: tuple[SupplierProfile, ...] = (
    SupplierProfile("SUP-01", "Hangzhou Home Supply", 7, (1,), p_late=0.08, late_days=(1, 3), p_early=0.1),
    SupplierProfile("SUP-02", "Shenzhen Bright Electronics", 14, (2,), p_late=0.4, late_days=(2, 12), p_short=0.05),
    SupplierProfile(
        "SUP-03", "Yiwu Trading Co.", 10, (3,), p_late=0.15, late_days=(1, 5), p_short=0.25, short_fraction=(0.5, 0.9)
    ),
    SupplierProfile("SUP-04", "Guangzhou Beauty Co.", 5, (0,), p_late=0.1, late_days=(1, 2), p_early=0.15),
    SupplierProfile(
        "SUP-05",
        "Qingdao Fresh Foods",
        2,
        (0, 3),
        p_late=0.1,
        late_days=(1, 1),
        p_early=0.0,
        p_short=0.1,
        short_fraction=(0.7, 0.95),
    ),
    SupplierProfile(
        "SUP-06",
        "Ningbo Global Imports",
        21,
        (4,),
        review_every_weeks=2,
        p_late=0.2,
        late_days=(1, 6),
        drift_days=10.0,
        drift_window_days=120,
    ),
)


@dataclass(frozen=True, slots=True)
class CategoryProfile:
    """Demand character of a sample category.

    Attributes:
        name, prefix: category name and SKU prefix.
        share: share of the SKUs.
        suppliers: supplier ids its items are bought from.
        unit, cost_range, pack_sizes, moq_packs: item master data ranges.
        base_rate: (low, high) typical daily demand of a regular item at a reference location (log-uniform).
        intermittent_share: share of slow, lumpy movers.
        season_peak_doy, season_amplitude: yearly seasonality (day of year of the peak, relative amplitude).
        weekend_lift: Saturday/Sunday demand relative to weekdays.
        effects: holiday key -> (multiplier at the end of the buying-ahead window, multiplier on the day).
        service_level: target service level written to items.
        shelf_life_days: (low, high) or None.
    """

    name: str
    prefix: str
    share: float
    suppliers: tuple[str, ...]
    unit: str
    cost_range: tuple[float, float]
    pack_sizes: tuple[int, ...]
    base_rate: tuple[float, float]
    intermittent_share: float
    season_peak_doy: int
    season_amplitude: float
    weekend_lift: float
    effects: dict[str, tuple[float, float]] = field(default_factory=dict)
    moq_packs: tuple[int, ...] = (0, 1, 2)
    service_level: float = 0.95
    shelf_life_days: tuple[int, int] | None = None


CATEGORIES: tuple[CategoryProfile, ...] = (
    CategoryProfile(
        "electronics",
        "ELE",
        0.15,
        ("SUP-02", "SUP-06"),
        "ea",
        (30, 400),
        (1, 2, 5),
        (0.8, 12),
        0.15,
        350,
        0.15,
        1.15,
        {
            "618": (1.6, 2.8),
            "double_11": (1.8, 3.5),
            "black_friday": (1.2, 1.8),
            "christmas": (1.4, 1.0),
            "spring_festival": (1.3, 0.5),
            "double_12": (1.1, 1.5),
        },
    ),
    CategoryProfile(
        "home",
        "HOM",
        0.18,
        ("SUP-01",),
        "ea",
        (5, 80),
        (1, 4, 6, 12),
        (1, 20),
        0.1,
        100,
        0.2,
        1.25,
        {"national_day": (1.2, 1.4), "double_11": (1.4, 2.0), "labour_day": (1.1, 1.3), "spring_festival": (1.3, 0.6)},
    ),
    CategoryProfile(
        "beauty",
        "BEA",
        0.12,
        ("SUP-04",),
        "ea",
        (8, 120),
        (1, 6, 12),
        (1, 15),
        0.05,
        60,
        0.1,
        1.2,
        {
            "618": (1.5, 2.4),
            "double_11": (1.8, 3.0),
            "womens_day": (1.3, 1.8),
            "valentines": (1.3, 1.5),
            "spring_festival": (1.1, 0.6),
        },
        service_level=0.97,
    ),
    CategoryProfile(
        "food",
        "FOO",
        0.18,
        ("SUP-05",),
        "box",
        (2, 40),
        (6, 12, 24),
        (3, 40),
        0.0,
        20,
        0.1,
        1.35,
        {
            "spring_festival": (2.5, 0.5),
            "mid_autumn": (2.2, 0.8),
            "dragon_boat": (1.5, 1.0),
            "national_day": (1.3, 1.3),
            "new_year": (1.2, 1.0),
        },
        service_level=0.98,
        shelf_life_days=(30, 365),
    ),
    CategoryProfile(
        "toys",
        "TOY",
        0.10,
        ("SUP-03",),
        "ea",
        (5, 90),
        (1, 6, 12),
        (0.6, 10),
        0.15,
        350,
        0.25,
        1.4,
        {"childrens_day": (1.8, 1.5), "christmas": (2.5, 0.8), "double_11": (1.5, 2.0), "spring_festival": (1.6, 0.6)},
    ),
    CategoryProfile(
        "apparel",
        "APP",
        0.12,
        ("SUP-03", "SUP-06"),
        "ea",
        (10, 150),
        (1, 5, 10),
        (0.8, 12),
        0.1,
        15,
        0.45,
        1.3,
        {"double_11": (1.6, 2.5), "618": (1.3, 1.6), "national_day": (1.2, 1.3), "spring_festival": (1.5, 0.5)},
        service_level=0.93,
    ),
    CategoryProfile(
        "spare parts",
        "PRT",
        0.15,
        ("SUP-01", "SUP-06"),
        "ea",
        (3, 250),
        (1, 2, 10),
        (0.05, 2),
        0.8,
        200,
        0.05,
        0.4,
        {"spring_festival": (1.0, 0.3), "national_day": (1.0, 0.5)},
        moq_packs=(0, 1),
        service_level=0.9,
    ),
)

_LOCATIONS = (
    ("WH-SH", "Shanghai DC (online)", "warehouse", 1.6),
    ("ST-BJ", "Beijing store", "store", 0.8),
    ("ST-GZ", "Guangzhou store", "store", 0.6),
    ("ST-CD", "Chengdu store", "store", 0.5),
    ("ST-WH", "Wuhan store", "store", 0.5),
    ("ST-XA", "Xi'an store", "store", 0.4),
)

_NOUNS = {
    "electronics": ("Earbuds", "Charger", "Power Bank", "Speaker", "Cable", "Smart Watch", "Router", "Keyboard"),
    "home": ("Towel", "Storage Box", "Mug", "Pillow", "Frying Pan", "Lamp", "Hanger Set", "Bath Mat"),
    "beauty": ("Face Cream", "Lipstick", "Shampoo", "Sunscreen", "Serum", "Face Mask", "Toner"),
    "food": ("Green Tea", "Mooncake Box", "Dried Fruit", "Rice Noodles", "Sesame Oil", "Snack Mix", "Dumplings"),
    "toys": ("Building Blocks", "Plush Panda", "Puzzle", "Toy Car", "Kite", "Board Game"),
    "apparel": ("Down Jacket", "T-Shirt", "Sweater", "Scarf", "Jeans", "Socks 5-pack", "Cap"),
    "spare parts": ("Bearing", "Filter", "Belt", "Valve", "Gasket", "Motor", "Fuse Kit", "Pump Seal"),
}


MAX_LOCATIONS = 9999  # stores past the six named ones are numbered ST-0007 ... ST-9999


def build_locations(n_locations: int) -> pd.DataFrame:
    """The ``locations`` table plus a ``demand_factor`` column (size of the location's demand).

    The first six locations are the named DC and stores; a larger company gets numbered stores
    (``ST-0007``, ...) whose sizes cycle through the named stores' sizes, so it stays deterministic.
    """
    if not 1 <= n_locations <= MAX_LOCATIONS:
        raise ValueError(f"n_locations must be between 1 and {MAX_LOCATIONS}, got {n_locations}")
    rows = list(_LOCATIONS[:n_locations])
    store_sizes = [r[3] for r in _LOCATIONS if r[2] == "store"]
    for k in range(len(_LOCATIONS) + 1, n_locations + 1):
        rows.append((f"ST-{k:04d}", f"Store {k}", "store", store_sizes[k % len(store_sizes)]))
    return pd.DataFrame(rows, columns=["location_id", "name", "kind", "demand_factor"])


def build_suppliers() -> pd.DataFrame:
    """The ``suppliers`` table."""
    return pd.DataFrame(
        [(s.supplier_id, s.name, s.lead_time_days) for s in SUPPLIERS],
        columns=["supplier_id", "name", "lead_time_days"],
    )


def build_items(n_skus: int, rng: np.random.Generator) -> pd.DataFrame:
    """The ``items`` table plus the hidden demand parameters of each item.

    Hidden columns (dropped before writing): ``cat_idx``, ``base_rate``, ``is_intermittent``,
    ``dispersion`` (gamma shape of the demand noise), ``trend_per_year``, ``list_price``,
    ``safety_days`` (the company's own cover target), ``elasticity`` (promotion uplift).
    """
    shares = np.array([c.share for c in CATEGORIES])
    counts = np.floor(shares / shares.sum() * n_skus).astype(int)
    counts[np.argsort(-shares)[: n_skus - counts.sum()]] += 1
    cat_idx = np.repeat(np.arange(len(CATEGORIES)), counts)
    sup_lt = {s.supplier_id: s.lead_time_days for s in SUPPLIERS}
    rows = []
    for i, ci in enumerate(cat_idx):
        c = CATEGORIES[ci]
        k = i - int(counts[:ci].sum()) + 1
        supplier = c.suppliers[int(rng.integers(len(c.suppliers)))]
        cost = float(np.exp(rng.uniform(np.log(c.cost_range[0]), np.log(c.cost_range[1]))))
        pack = int(rng.choice(c.pack_sizes))
        moq = pack * int(rng.choice(c.moq_packs))
        intermittent = bool(rng.random() < c.intermittent_share)
        lo, hi = (0.03, 0.4) if intermittent else c.base_rate
        rate = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        # A few items have their own stated lead time (air freight, custom packaging).
        own_lt = sup_lt[supplier] + int(rng.choice([-2, 3, 5])) if rng.random() < 0.15 else None
        shelf = int(rng.integers(*c.shelf_life_days)) if c.shelf_life_days else None
        noun = c.name if not _NOUNS.get(c.name) else _NOUNS[c.name][int(rng.integers(len(_NOUNS[c.name])))]
        rows.append(
            {
                "sku": f"{c.prefix}-{k:04d}",
                "name": f"{noun} {c.prefix}{k:03d}",
                "category": c.name,
                "unit": c.unit,
                "unit_cost": round(cost, 2),
                "pack_size": pack,
                "moq": moq,
                "supplier_id": supplier,
                "lead_time_days": max(own_lt, 1) if own_lt is not None else None,
                "service_level": c.service_level,
                "shelf_life_days": shelf,
                "cat_idx": int(ci),
                "base_rate": rate,
                "is_intermittent": intermittent,
                "dispersion": float(rng.uniform(0.6, 1.5) if intermittent else rng.uniform(3, 15)),
                "trend_per_year": float(rng.normal(0.05, 0.15)),
                "list_price": round(cost * float(rng.uniform(1.4, 2.5)), 2),
                "safety_days": float(rng.uniform(5, 14)),
                "elasticity": float(rng.uniform(1.5, 4.0)),
            }
        )
    items = pd.DataFrame(rows)
    for col in ("lead_time_days", "shelf_life_days"):  # all-missing columns would otherwise be object
        items[col] = items[col].astype("float64")
    return items


ITEM_COLUMNS: tuple[str, ...] = (
    "sku",
    "name",
    "category",
    "unit",
    "unit_cost",
    "pack_size",
    "moq",
    "supplier_id",
    "lead_time_days",
    "service_level",
    "shelf_life_days",
)
