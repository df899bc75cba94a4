"""Regenerate ``src/vidgen/data/trends.json``, the offline sample of trending short videos.

Deterministic (fixed seed and reference time) so the committed file only changes when this script
does. Run from the repository root::

    .venv/bin/python scripts/make_sample_trends.py

Shape of the data, chosen to resemble what the real sources return:

- platforms tiktok / youtube / instagram (roughly 45 / 30 / 25 %);
- views are log-normal (median ~120k, a long tail into tens of millions), because attention on
  short-video platforms is heavy-tailed: a few videos take most of the views;
- likes are 2-12 % of views, comments 0.4-4 % of likes, shares 3-25 % of likes (higher for
  product and food content, which people forward); YouTube shares are sparse like the real API;
- posted times spread over the 7 days before ``REFERENCE_TIME``, denser in the last two days
  (trending lists favour recent uploads); views ramp up over a video's first 48 hours;
- durations 7-60 s, log-normal around 21 s;
- titles come from per-category templates whose wording carries the cues the style classifier
  reads (``top 5``, ``how to``, ``unboxing``, ``storytime``, ``cinematic``...).
"""

from __future__ import annotations

import json
import math
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20250601
REFERENCE_TIME = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
COUNT = 240
OUT = Path(__file__).resolve().parents[1] / "src" / "vidgen" / "data" / "trends.json"

# category -> (hashtags pool, title templates, share multiplier)
CATEGORIES: dict[str, tuple[list[str], list[str], float]] = {
    "tech": (
        ["tech", "gadgets", "techtok", "smartphone", "setup", "ai", "productivity", "desksetup"],
        [
            "Top {n} gadgets under ${price} you didn't know you needed",
            "Unboxing the {product}: worth it?",
            "How to set up {product} in {n} minutes",
            "{n} hidden iPhone features nobody talks about",
            "I tested the {product} for a week - honest review",
            "My minimal desk setup tour, cinematic edition",
            "Hot take: you don't need a new phone this year",
        ],
        1.2,
    ),
    "product": (
        ["tiktokmademebuyit", "amazonfinds", "musthave", "unboxing", "review", "founditonamazon"],
        [
            "Amazon finds that actually work (part {n})",
            "{product} demo: watch this before you buy",
            "Unboxing the viral {product}",
            "Top {n} products that changed my morning",
            "Is the {product} a scam? I tested it",
            "{n} kitchen gadgets worth every penny",
        ],
        1.6,
    ),
    "food": (
        [
            "food",
            "recipe",
            "foodtok",
            "easyrecipe",
            "cooking",
            "mealprep",
            "airfryer",
            "healthyeating",
        ],
        [
            "How to make {dish} in {n} minutes",
            "{n} ingredient {dish} you need to try",
            "Top {n} air fryer recipes for busy weeks",
            "Street food in {city} hits different (cinematic)",
            "Storytime: I cooked {dish} for 20 people",
            "Easy {dish} recipe, step by step",
        ],
        1.4,
    ),
    "fitness": (
        ["fitness", "gymtok", "workout", "homeworkout", "fitnesstips", "motivation", "pilates"],
        [
            "{n} exercises for a stronger core, no equipment",
            "How to fix your squat form: beginner guide",
            "Top {n} mistakes beginners make at the gym",
            "My honest take on {n}-minute workouts",
            "Morning run through {city} at sunrise, cinematic",
            "Trying the viral {product} for 30 days - review",
        ],
        0.9,
    ),
    "travel": (
        ["travel", "traveltok", "wanderlust", "travelgram", "hiddengems", "roadtrip", "drone"],
        [
            "{city} from above - cinematic drone film",
            "Top {n} hidden gems in {city}",
            "How to see {city} on a budget: {n} tips",
            "POV: golden hour in {city}",
            "Storytime: I missed my flight in {city}",
            "{n} things I wish I knew before visiting {city}",
        ],
        1.1,
    ),
    "diy": (
        ["diy", "lifehack", "homedecor", "crafts", "upcycling", "tutorial", "organization"],
        [
            "DIY {thing} in {n} steps - full tutorial",
            "How to build a {thing} for under ${price}",
            "{n} organisation hacks for tiny apartments",
            "Top {n} life hacks that actually work",
            "Restoring an old {thing}, satisfying timelapse",
            "Let's talk about why DIY {thing}s fail",
        ],
        1.3,
    ),
    "beauty": (
        ["beauty", "skincare", "makeup", "grwm", "skincareroutine", "beautytips"],
        [
            "GRWM and storytime: the worst job interview",
            "{n} step skincare routine for glass skin",
            "How to do a {n}-minute everyday makeup look",
            "Testing the viral {product}: does it work?",
            "Top {n} drugstore dupes this month",
        ],
        1.0,
    ),
    "finance": (
        ["money", "personalfinance", "investing", "budgeting", "sidehustle", "financetips"],
        [
            "{n} money habits that changed my life",
            "How to build a budget in {n} minutes",
            "My honest opinion on side hustles in 2025",
            "Let's talk about the {n}/30/20 rule",
            "Top {n} apps that save you money",
        ],
        1.2,
    ),
    "pets": (
        ["pets", "dogsoftiktok", "catsoftiktok", "puppy", "funnyanimals", "petcare"],
        [
            "POV: your dog hears the treat bag",
            "{n} things every new cat owner should know",
            "How to teach your puppy to sit in {n} days",
            "Storytime: my cat opened the fridge",
            "Unboxing the {pet_product} for my dog",
        ],
        1.5,
    ),
    "comedy": (
        ["comedy", "funny", "relatable", "skit", "pov", "officehumor"],
        [
            "POV: the meeting could have been an email",
            "When the group chat plans a trip (part {n})",
            "Storytime: the worst date of my life",
            "Rating my coworkers' lunch choices",
            "{n} types of people at the gym",
        ],
        2.0,
    ),
}

GENERIC = ["fyp", "viral", "trending", "foryou", "shorts", "reels", "explore"]
PRODUCTS = [
    "smart ring",
    "mini projector",
    "magnetic power bank",
    "robot vacuum",
    "standing desk",
    "noise-cancelling earbuds",
    "portable blender",
    "LED strip kit",
    "e-reader",
    "smart lamp",
    "travel kettle",
    "foldable keyboard",
    "air purifier",
    "massage gun",
    "label printer",
]
PET_PRODUCTS = [
    "self-cleaning litter box",
    "treat camera",
    "slow feeder",
    "GPS collar",
    "lick mat",
    "automatic ball launcher",
]
DISHES = [
    "garlic butter pasta",
    "crispy tofu",
    "shakshuka",
    "smash burgers",
    "overnight oats",
    "banana bread",
    "ramen",
    "chicken tikka",
    "focaccia",
    "cloud bread",
    "sushi bake",
]
CITIES = [
    "Lisbon",
    "Kyoto",
    "Mexico City",
    "Cape Town",
    "Reykjavik",
    "Seoul",
    "Marrakech",
    "Vancouver",
    "Istanbul",
    "Bali",
    "New York",
    "Copenhagen",
]
THINGS = ["bookshelf", "plant stand", "coffee table", "headboard", "lamp", "shoe rack", "desk"]
FIRST = [
    "maya",
    "leo",
    "zoe",
    "kai",
    "nina",
    "omar",
    "ava",
    "theo",
    "lena",
    "jay",
    "sofia",
    "marco",
    "priya",
    "sam",
    "yuki",
    "ella",
    "noah",
    "ines",
    "finn",
    "rosa",
]
SUFFIX = [
    "cooks",
    "makes",
    "fit",
    "travels",
    "tech",
    "daily",
    "diy",
    "lab",
    "eats",
    "hq",
    "films",
    "studio",
    "finds",
    "talks",
    "tv",
]
TRACKS = [
    "Espresso - Sabrina Carpenter",
    "APT. - ROSE & Bruno Mars",
    "Birds of a Feather - Billie Eilish",
    "Good Luck, Babe! - Chappell Roan",
    "Die With A Smile - Lady Gaga & Bruno Mars",
    "Lo-fi Morning - Chillhop",
    "Cinematic Rise - Epic Sounds",
    "Upbeat Corporate - AudioLab",
    "Aesthetic - Tollan Kim",
    "Oh No - Kreepa",
    "Monkeys Spinning Monkeys - Kevin MacLeod",
    "Sunset Lover - Petit Biscuit",
]
PLATFORM_WEIGHTS = [("tiktok", 0.45), ("youtube", 0.30), ("instagram", 0.25)]


def _external_id(rng: random.Random, platform: str) -> str:
    if platform == "tiktok":
        return str(rng.randrange(7_300_000_000_000_000_000, 7_400_000_000_000_000_000))
    alphabet = string.ascii_letters + string.digits + "-_"
    length = 11
    return "".join(rng.choice(alphabet) for _ in range(length))


def _pick_platform(rng: random.Random) -> str:
    roll = rng.random()
    acc = 0.0
    for name, weight in PLATFORM_WEIGHTS:
        acc += weight
        if roll < acc:
            return name
    return PLATFORM_WEIGHTS[-1][0]


def _title(rng: random.Random, template: str) -> str:
    return template.format(
        n=rng.choice([3, 5, 5, 7, 10]),
        price=rng.choice([20, 25, 50, 100]),
        product=rng.choice(PRODUCTS),
        pet_product=rng.choice(PET_PRODUCTS),
        dish=rng.choice(DISHES),
        city=rng.choice(CITIES),
        thing=rng.choice(THINGS),
    )


def make_item(rng: random.Random, creators: list[str]) -> dict[str, Any]:
    platform = _pick_platform(rng)
    category = rng.choice(list(CATEGORIES))
    pool, templates, share_factor = CATEGORIES[category]
    title = _title(rng, rng.choice(templates))
    tags = rng.sample(pool, k=rng.randint(2, min(4, len(pool))))
    tags += rng.sample(GENERIC, k=rng.randint(0, 2))
    if platform == "youtube" and "shorts" not in tags:
        tags.append("shorts")

    # Recent uploads dominate trending lists: the power > 1 skews ages towards the reference time.
    age_hours = 168 * rng.random() ** 1.6 + rng.uniform(0.5, 2.0)
    # Views accumulate over the first two days, so a 1-hour-old video has a fraction of its reach.
    ramp = min(1.0, age_hours / 48.0) ** 0.7
    views = int(min(60_000_000, max(800, rng.lognormvariate(math.log(150_000), 1.5) * ramp)))
    like_rate = rng.uniform(0.02, 0.12)
    likes = int(views * like_rate)
    comments = int(likes * rng.uniform(0.004, 0.04))
    shares = int(likes * rng.uniform(0.03, 0.25) * share_factor)
    if platform == "youtube":
        shares = int(shares * 0.2)
    posted = REFERENCE_TIME - timedelta(hours=age_hours)
    creator = rng.choice(creators)
    sound = f"original sound - {creator}" if rng.random() < 0.35 else rng.choice(TRACKS)
    if platform == "youtube":
        # YouTube Shorts rarely credit a sound in the API; keep the field honest.
        sound = "" if rng.random() < 0.6 else sound
    # Most trending shorts run 10-30 s; log-normal around 21 s, clamped to the 7-60 s range.
    duration = float(min(60, max(7, round(rng.lognormvariate(math.log(21), 0.45)))))
    return {
        "platform": platform,
        "external_id": _external_id(rng, platform),
        "title": title,
        "hashtags": tags,
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "creator": creator,
        "sound": sound,
        "duration_seconds": duration,
        "posted_at": posted.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }


def build(count: int = COUNT, seed: int = SEED) -> dict[str, Any]:
    rng = random.Random(seed)
    creators = sorted({f"{rng.choice(FIRST)}{rng.choice(SUFFIX)}" for _ in range(90)})
    items: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while len(items) < count:
        item = make_item(rng, creators)
        key = (item["platform"], item["external_id"])
        if key not in seen:
            seen.add(key)
            items.append(item)
    return {
        "description": "Synthetic trending short videos for offline runs; see "
        "scripts/make_sample_trends.py. posted_at is shifted by (now - reference_time) at load.",
        "reference_time": REFERENCE_TIME.isoformat().replace("+00:00", "Z"),
        "seed": seed,
        "items": items,
    }


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(data['items'])} trends to {OUT}")


if __name__ == "__main__":
    main()
