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
- descriptions, where the creator wrote one, lead with the video's takeaway (``DESCRIPTIONS``);
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

# What each video's creator wrote under it (the platforms' description field): the takeaway
# first, as creators put it, then the usual call to save or follow and hashtags. Many videos
# have none (storytimes, skits, unboxings), like real feeds. Keyed by title; a title not here
# gets "".
DESCRIPTIONS: dict[str, str] = {
    # travel
    "How to see Copenhagen on a budget: 5 tips": "In Copenhagen, rent a city bike instead of "
    "taking taxis, and picnic by the canals instead of eating out. Save this for your trip! "
    "#copenhagen #travel",
    "How to see Seoul on a budget: 3 tips": "In Seoul, one rechargeable T-money card covers "
    "the subway and the buses, and the royal palaces cost a few dollars to enter. #seoul",
    "How to see Seoul on a budget: 5 tips": "In Seoul, one rechargeable T-money card covers "
    "the subway and the buses, and the royal palaces cost a few dollars to enter. #seoul",
    "How to see Istanbul on a budget: 3 tips": "In Istanbul, cross the Bosphorus on the "
    "public ferry: the best view of the city for the price of a bus ticket. More in the video!",
    "How to see Bali on a budget: 3 tips": "In Bali, rent a scooter by the day and eat at "
    "local warungs, where a full meal costs a few dollars. #bali #budgettravel",
    "How to see Vancouver on a budget: 7 tips": "In Vancouver, walk or cycle the Stanley Park "
    "seawall for free, and ride the SeaBus for harbour views at the price of a bus fare.",
    "Top 5 hidden gems in Bali": "Skip the crowded beaches: Bali's rice terraces and "
    "waterfalls in the north are quiet if you arrive before nine. Save this!",
    "Top 7 hidden gems in Kyoto": "In Kyoto, climb Fushimi Inari at sunrise, before the "
    "crowds, and keep going past the first gates to the quiet upper shrines.",
    "Top 10 hidden gems in Lisbon": "In Lisbon, skip the queue for tram 28 and walk up to the "
    "Graca viewpoint: the same view over the city, for free.",
    "Top 7 hidden gems in Vancouver": "Near Vancouver, the Lynn Canyon suspension bridge is "
    "free, and just as high as the famous one. Follow for part 2!",
    "5 things I wish I knew before visiting Bali": "Traffic in Bali is slow, so plan one area "
    "per day instead of crossing the island twice. #bali #traveltips",
    "3 things I wish I knew before visiting Cape Town": "In Cape Town, ride the cable car up Table "
    "Mountain on the first calm morning: it stops in strong wind.",
    "5 things I wish I knew before visiting Seoul": "Before Seoul, download Naver Map or "
    "KakaoMap: Google Maps gives no walking directions there. #seoul #traveltips",
    "Istanbul from above - cinematic drone film": "For the best view of Istanbul without a drone, "
    "go up Galata Tower an hour before sunset. #istanbul",
    "New York from above - cinematic drone film": "For the best view of New York without a drone, "
    "ride the Roosevelt Island tram for the price of a subway ride.",
    "POV: golden hour in Kyoto": "For golden hour in Kyoto, walk the old streets below the "
    "Yasaka Pagoda about an hour before sunset.",
    "POV: golden hour in Marrakech": "For golden hour in Marrakech, find a rooftop cafe over "
    "the main square about an hour before sunset. #marrakech",
    "Street food in Lisbon hits different (cinematic)": "In Lisbon, order a bifana, a garlic "
    "pork sandwich, at any corner cafe for a few euros. #lisbon #streetfood",
    "Street food in Kyoto hits different (cinematic)": "In Kyoto, Nishiki Market has a food "
    "stall every few steps; try the sweet rolled omelette on a stick.",
    "Street food in Reykjavik hits different (cinematic)": "In Reykjavik, the famous cheap "
    "meal is a lamb hot dog with crispy onions and everything on it.",
    # fitness
    "3 exercises for a stronger core, no equipment": "For a stronger core at home: a 30 second "
    "plank, 10 dead bugs and 15 glute bridges, three rounds. #homeworkout",
    "5 exercises for a stronger core, no equipment": "For a stronger core at home: a 30 second "
    "plank, 10 dead bugs and 15 glute bridges, three rounds. #homeworkout",
    "7 exercises for a stronger core, no equipment": "For a stronger core at home: a 30 second "
    "plank, 10 dead bugs and 15 glute bridges, three rounds. #homeworkout",
    "How to fix your squat form: beginner guide": "Before your next workout, fix your squat: "
    "hips back as if you were sitting down, knees tracking your toes. Save this!",
    "Top 7 mistakes beginners make at the gym": "The biggest beginner mistake at the gym is "
    "lifting too heavy too soon: start light and add weight once your form is right.",
    "Top 10 mistakes beginners make at the gym": "The biggest beginner mistake at the gym is "
    "lifting too heavy too soon: start light and add weight once your form is right.",
    "My honest take on 3-minute workouts": "A three minute workout at home still "
    "counts: squats and jumping jacks between meetings keep you moving. #homeworkout",
    "My honest take on 5-minute workouts": "A five minute workout at home works if you "
    "keep it hard: 40 seconds of squats or push ups, 20 seconds of rest.",
    "My honest take on 10-minute workouts": "Ten minutes at home is a real workout: "
    "squats, push ups, lunges, a plank and jumping jacks, a minute each, twice through. "
    "#homeworkout",
    "Morning run through Lisbon at sunrise, cinematic": "Run at sunrise in Lisbon and you "
    "have the riverside path along the Tagus almost to yourself.",
    "Trying the viral standing desk for 30 days - review": "Standing all day is not the "
    "goal: switch between sitting and standing every 30 minutes.",
    # food
    "How to make chicken tikka in 5 minutes": "Marinate the chicken in yogurt, garlic and "
    "garam masala, then air fry it at 200 degrees for 12 minutes. #easyrecipe",
    "How to make crispy tofu in 5 minutes": "For crispy tofu, press out the water, toss the "
    "cubes in cornstarch and air fry them at 200 degrees for 15 minutes.",
    "How to make crispy tofu in 10 minutes": "For crispy tofu, press out the water, toss the "
    "cubes in cornstarch and air fry them at 200 degrees for 15 minutes.",
    "How to make focaccia in 5 minutes": "For an easy focaccia, pour plenty of olive oil in "
    "the pan and dimple the dough with your fingers just before baking.",
    "How to make garlic butter pasta in 10 minutes": "Cook the garlic slowly in butter, then add "
    "a splash of the pasta's cooking water for a glossy sauce.",
    "5 ingredient smash burgers you need to try": "For smash burgers, press the beef hard "
    "onto a very hot pan for the crust, and salt it only after smashing.",
    "Top 3 air fryer recipes for busy weeks": "Busy week? Air fry salmon in 10 minutes and "
    "crispy chickpeas in 15, with no pan to wash. #airfryer",
    "Top 5 air fryer recipes for busy weeks": "Busy week? Air fry salmon in 10 minutes and "
    "crispy chickpeas in 15, with no pan to wash. #airfryer",
    "Top 7 air fryer recipes for busy weeks": "Busy week? Air fry salmon in 10 minutes and "
    "crispy chickpeas in 15, with no pan to wash. #airfryer",
    "Easy banana bread recipe, step by step": "The riper the bananas, the sweeter the banana "
    "bread: use the ones covered in brown spots. #baking",
    "Easy cloud bread recipe, step by step": "Cloud bread needs three ingredients: eggs, "
    "cream cheese and a pinch of cream of tartar, baked for 25 minutes.",
    # beauty
    "3 step skincare routine for glass skin": "For glass skin, layer a gentle cleanser, a "
    "hydrating toner and a light moisturiser, and wear sunscreen every morning.",
    "5 step skincare routine for glass skin": "For glass skin, layer a gentle cleanser, a "
    "hydrating toner and a light moisturiser, and wear sunscreen every morning.",
    "7 step skincare routine for glass skin": "For glass skin, layer a gentle cleanser, a "
    "hydrating toner and a light moisturiser, and wear sunscreen every morning.",
    "How to do a 3-minute everyday makeup look": "For an everyday makeup look, a skin tint, "
    "cream blush and brow gel take three minutes and look natural.",
    "How to do a 5-minute everyday makeup look": "For an everyday makeup look, a skin tint, "
    "cream blush and brow gel take five minutes and look natural.",
    "How to do a 7-minute everyday makeup look": "For an everyday makeup look, a skin tint, "
    "cream blush and brow gel take minutes and look natural.",
    "How to do a 10-minute everyday makeup look": "For an everyday makeup look, a skin tint, "
    "cream blush and brow gel take minutes and look natural.",
    # pets
    "How to teach your puppy to sit in 3 days": "To teach a puppy to sit, hold a treat above "
    "its nose and move it back; when its bottom touches the floor, reward it at once.",
    "How to teach your puppy to sit in 5 days": "To teach a puppy to sit, hold a treat above "
    "its nose and move it back; when its bottom touches the floor, reward it at once.",
    "How to teach your puppy to sit in 7 days": "To teach a puppy to sit, hold a treat above "
    "its nose and move it back; when its bottom touches the floor, reward it at once.",
    "3 things every new cat owner should know": "Put the litter box far from the food bowl, "
    "and give your cat a high shelf to watch the room from. #catsoftiktok",
    "10 things every new cat owner should know": "Put the litter box far from the food bowl, "
    "and give your cat a high shelf to watch the room from. #catsoftiktok",
    # money
    "How to build a budget in 3 minutes": "List your fixed bills, move your savings first, and "
    "split what is left into a weekly spending amount. #budgeting",
    "How to build a budget in 5 minutes": "List your fixed bills, move your savings first, and "
    "split what is left into a weekly spending amount. #budgeting",
    "How to build a budget in 10 minutes": "List your fixed bills, move your savings first, "
    "and split what is left into a weekly spending amount. #budgeting",
    "5 money habits that changed my life": "Move your savings on payday, before you can spend "
    "them, and wait two days before any purchase over 50 dollars.",
    "7 money habits that changed my life": "Move your savings on payday, before you can spend "
    "them, and wait two days before any purchase over 50 dollars.",
    "10 money habits that changed my life": "Move your savings on payday, before you can "
    "spend them, and wait two days before any purchase over 50 dollars.",
    "Top 7 apps that save you money": "Before any money app, cancel every subscription you "
    "have not opened this month. #personalfinance",
    "Top 10 apps that save you money": "Before any money app, cancel every subscription you "
    "have not opened this month. #personalfinance",
    # diy
    "DIY plant stand in 3 steps - full tutorial": "Cut four legs from one pine board, screw "
    "them to a round top and finish with oil: a plant stand in an afternoon.",
    "How to build a bookshelf for under $50": "Two pine boards and a pack of steel brackets "
    "make a wall bookshelf for under 50 dollars; find the studs before you drill.",
    "How to build a lamp for under $100": "A lamp kit, an empty bottle and a linen shade make "
    "a table lamp for well under 100 dollars.",
    "How to build a shoe rack for under $25": "Three pine boards and a few wooden dowels make "
    "a shoe rack for under 25 dollars, in about an hour.",
    "How to build a shoe rack for under $50": "Three pine boards and a few wooden dowels make "
    "a shoe rack for under 50 dollars, in about an hour.",
    "3 organisation hacks for tiny apartments": "In a tiny apartment, use the back of every "
    "door: over-door hooks and pockets free up a whole shelf.",
    "10 organisation hacks for tiny apartments": "In a tiny apartment, use the back of every "
    "door: over-door hooks and pockets free up a whole shelf.",
    "Top 3 life hacks that actually work": "A rubber band over a stripped screw gives your "
    "screwdriver enough grip to turn it out.",
    "Top 5 life hacks that actually work": "A rubber band over a stripped screw gives your "
    "screwdriver enough grip to turn it out.",
    "Top 10 life hacks that actually work": "A rubber band over a stripped screw gives your "
    "screwdriver enough grip to turn it out.",
    "Restoring an old bookshelf, satisfying timelapse": "To restore old wood, sand it with 120 "
    "then 240 grit and finish with two thin coats of oil.",
    "Restoring an old shoe rack, satisfying timelapse": "To restore old wood, sand it with 120 "
    "then 240 grit and finish with two thin coats of oil.",
    "Let's talk about why DIY plant stands fail": "Most DIY plant stands wobble because the "
    "legs differ in length: clamp all four together and cut them at once.",
    "Let's talk about why DIY headboards fail": "DIY headboards fail when they hang on the "
    "bed frame: screw them to the wall studs instead.",
    "Let's talk about why DIY lamps fail": "DIY lamps fail at the wiring: buy a ready-wired "
    "lamp kit and build only the base.",
    # tech
    "5 hidden iPhone features nobody talks about": "Hold the space bar on the iPhone keyboard "
    "and it turns into a trackpad for moving the cursor.",
    "10 hidden iPhone features nobody talks about": "Hold the space bar on the iPhone "
    "keyboard and it turns into a trackpad for moving the cursor.",
    "Hot take: you don't need a new phone this year": "A new battery costs a fraction of a "
    "new phone and makes an old one feel new again.",
    "How to set up mini projector in 3 minutes": "Put a mini projector level with the middle "
    "of the screen, not below it, and you need no keystone correction.",
}


def description(title: str) -> str:
    return DESCRIPTIONS.get(title, "")


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
        "description": description(title),
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
