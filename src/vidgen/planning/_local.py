"""The offline planner (``LocalPlanner``)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence

from vidgen.analysis import topic_keywords
from vidgen.config import ThemeConfig
from vidgen.errors import FatalStageError
from vidgen.planning._facts import MAX_FACTS, fact_order
from vidgen.planning._plan import (
    MAX_HEADLINE_CHARS,
    MIN_SCENES,
    PlanResult,
    ProductionPlan,
    Report,
    Scripts,
)
from vidgen.planning._script import (
    _STYLE_PHRASES,
    SHAPES,
    THEME_SHAPES,
    Line,
    _claim_hook,
    _cta,
    _fits,
    _lower_word,
    _on_topic_tags,
    _plan_budget,
    _seed,
    _subject_terms,
    _title_claim,
    _vary_openings,
    announce_list,
    default_scene_count,
    first_said_once,
    fit_lines,
    plan_hashtags,
    problem_opening,
    scenes_from_lines,
    spoken_load,
)
from vidgen.planning._subject import (
    Subject,
    _phrase,
    choose_subject,
    short_count,
    subject_candidates,
    theme_uncovered_message,
)
from vidgen.planning._trends import (
    Tip,
    _distinct_ideas,
    _pack_tips,
    _place_of,
    _theme_result,
    _tip_subjects,
    claim_opening,
    theme_tips,
)
from vidgen.planning._words import (
    _COUNT_WORDS,
    _ORDINAL_WORDS,
    _SENTENCE_END,
    _SPOKEN_NUMBERS,
    Product,
    _capital,
    _fact_sentence,
    _imperative,
    _keywords,
    _looks_like_verb,
    _noun_phrase,
    _sentence,
    fact_clause,
    figure_of,
    natural_case,
    only_figure,
    same_fact,
    scene_subjects,
)


class LocalPlanner:
    """Offline planner: scripts written from the material the config and the trends give, in
    one of several shapes (``SHAPES``) chosen by style; no network, no cost. The job id picks
    the reference (rotating among the best matches across jobs) and the shape; ``variant``
    moves to another reference or shape (another angle, when a plan turns out too like an
    earlier video). The same job id, inputs and variant give the same plan."""

    name = "local"

    def plan(
        self, config: ThemeConfig, report: Report, job_id: int, variant: int = 0, said: Scripts = ()
    ) -> PlanResult:
        rng = random.Random(f"{_seed(config, report, job_id)}:{variant}")
        candidates, _ = subject_candidates(config)
        subject = choose_subject(config, report, job_id, variant)
        n_refs = max(1, len(candidates))
        # Reference and shape move from job to job: every pairing comes round before a repeat.
        visit = (job_id - 1) // n_refs + variant // n_refs  # this reference's nth video
        turn = visit + (job_id - 1)
        if subject.reference is None:
            # Only a new angle turns a theme video: the trends about it change from day to day.
            return self._theme_plan(config, subject, rng, variant)
        return self._reference_plan(config, report, subject, rng, turn, visit, said)

    # -- a video about one content reference ---------------------------------------------

    def _reference_plan(
        self,
        config: ThemeConfig,
        report: Report,
        subject: Subject,
        rng: random.Random,
        turn: int,
        visit: int = 0,
        said: Scripts = (),
    ) -> PlanResult:
        settings = config.config
        ref = subject.reference
        assert ref is not None
        product = Product.of(ref.title, ref.tags)
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ref.talking_points) + 1)
        shapes = SHAPES[settings.style]
        shape = shapes[turn % len(shapes)]
        steps = [s for s in (_imperative(p, product.plural) for p in ref.talking_points) if s]
        if shape == "steps" and len(steps) < 2:
            shape = shapes[(turn + 1) % len(shapes)]
        if shape == "problem" and not any(
            _looks_like_verb(p.split(" ", 1)[0]) for p in ref.talking_points
        ):
            shape = "tour"

        # The material, one fact each, in the reference's order; the description's sentences
        # count only where they add something the talking points do not say.
        facts: list[str] = []
        for text in [
            *ref.talking_points,
            *(s for s in _SENTENCE_END.split(ref.description.strip()) if s.strip()),
        ]:
            if not any(same_fact(text, seen) for seen in facts):
                facts.append(text)
        from_description = frozenset(facts[len(ref.talking_points) :]) - set(ref.talking_points)
        facts = fact_order(facts, turn, said)
        pointed = [f for f in facts if f not in from_description]
        if shape in ("listicle", "problem") and len(pointed) >= 2:
            facts = pointed  # a reason is a talking point, not "it is a kettle"
        facts = sorted(facts, key=lambda f: f in from_description)[:MAX_FACTS]  # points first
        terms = _subject_terms(product, ref.tags)
        lead = [product.noun]
        # Your own opening lines take turns like the facts, your closing lines from one video
        # of the reference to its next (by turn one closed all of them).
        opening = ref.hooks[turn % len(ref.hooks)] if ref.hooks else None
        closing = ref.ctas[visit % len(ref.ctas)] if ref.ctas else None

        hook: Line
        body: list[Line] = []
        if shape == "problem":
            point, hook, answer = problem_opening(facts, product)
            body.append(answer)
            facts = [f for f in facts if f is not point]
        elif shape == "listicle":
            hook = Line("hook", "", f"{product.title}", [product.noun])
        elif shape == "steps":
            hook = Line("hook", "", product.title, [product.noun])
        else:
            described = _noun_phrase(ref.description)
            opener = rng.choice(("Meet the", "Say hello to the"))
            if described and not any(same_fact(described, f) for f in ref.talking_points):
                facts = [f for f in facts if not same_fact(f, described)]
            selling = facts[0] if facts else None
            claim = (
                _claim_hook(selling, product)
                if selling and selling not in from_description
                else None
            )
            if claim and selling is not None and opening:
                # Your opening line first (a tour's: the question and the list shapes open on
                # their own, so videos of one product still differ), then the product and its
                # key selling point. The screen names the product while the voice has not: a
                # figure there ("30 dB") was shown before it was said, and again after.
                name = product.title if len(product.title) <= MAX_HEADLINE_CHARS else None
                hook = Line("hook", _sentence(opening), name, [product.noun])
                body.append(
                    Line(
                        "fact" if figure_of(selling) else "feature",
                        claim,
                        figure_of(selling),
                        scene_subjects(selling, lead),
                    )
                )
                facts = facts[1:]
            elif claim and selling is not None:
                # The hook names the product and its key selling point in one breath: a
                # reason to stay in the first second, not "Meet the ...".
                hook = Line("hook", claim, figure_of(selling), [product.noun])
                facts = facts[1:]
            else:
                hook = Line(
                    "hook",
                    f"{opener} {product.title}.",
                    None,  # the voice says the name: the picture alone, big
                    [product.noun],
                )
            # Then what the product is, as a scene of its own (one long opening sentence held
            # one picture on screen for 7-9 s) - unless the hook made the claim: after it, "They
            # are over-ear headphones that cancel noise" is the same promise again.
            if described and claim is None:
                facts = [f for f in facts if not same_fact(f, described)]
                body.append(
                    Line(
                        "feature",
                        f"{'They are' if product.plural else 'It is'} {described}.",
                        figure_of(described),
                        scene_subjects(described, lead),
                    )
                )

        if shape == "steps":
            for n, step in enumerate(steps[:4], start=1):
                body.append(
                    Line(
                        "step",
                        f"Step {_SPOKEN_NUMBERS[n - 1]}: {_lower_word(step)}.",
                        figure_of(step) or f"Step {n}",
                        scene_subjects(step, lead),
                        number=n,
                    )
                )
        else:
            named = True  # every hook names the product: the facts say "it" / "they"
            for n, fact in enumerate(facts, start=1):
                sentence = _fact_sentence(fact, product, named or n > 1, from_description)
                figure = figure_of(fact)
                if shape == "listicle":
                    ordinal = _ORDINAL_WORDS[min(n, len(_ORDINAL_WORDS)) - 1]
                    text = f"{ordinal}, {_lower_word(sentence)}"
                    claim = fact_clause(fact)
                    # The claim without what it means ("..., so your legs stay fresh"), when
                    # time is short: your opening line may say that already.
                    short = (
                        f"{ordinal}, "
                        + _lower_word(
                            _fact_sentence(claim, product, named or n > 1, from_description)
                        )
                        if claim != fact
                        else None
                    )
                    body.append(
                        Line(
                            "list_item",
                            text,
                            # Only a figure adds to what is said; a lone noun ("Wall") does not.
                            figure,
                            scene_subjects(fact, lead),
                            number=n,
                            short=short,
                        )
                    )
                else:
                    body.append(
                        Line(
                            "fact" if figure else "feature",
                            sentence,
                            figure,
                            scene_subjects(fact, lead),
                        )
                    )
        # A product video asks about the product, not "follow for more running ideas".
        cta = _cta(config, None, product.title, "them" if product.plural else "it", closing)
        lines = fit_lines([hook, *body, cta], budget, n_max)
        if shape not in ("listicle", "steps"):
            _vary_openings(lines)
        else:
            opener = rng.choice(
                (
                    "{n} reasons to love the {title}.",
                    "{n} things the {title} get right."
                    if product.plural
                    else "{n} things the {title} gets right.",
                )
                if shape == "listicle"
                else ("How to get the most from the {title}, in {n} steps.",)
            )
            lines, announce = announce_list(lines, opener, product.title, opening, budget)
            first_said_once(lines)

        own = [
            *([settings.theme] if subject.theme_matched else []),
            product.short.removeprefix("the "),
            *ref.tags,
        ]
        tags = plan_hashtags(own, subject.hashtags, settings.target_platform)
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        description = " ".join(part for part in (ref.description.strip(), " ".join(tags)) if part)
        title = product.title
        if shape in ("listicle", "steps"):
            title = announce.rstrip(".")[:100]
        else:
            # The first fact that makes a claim ("cut background noise by 30 decibels"), not
            # what the product is ("are lightweight road running shoes") nor what it means to
            # the viewer (a title has room for one); the opening's card says it too.
            spoken = [line.narration for line in lines[:-1]]
            if shape == "problem":
                # The question's point is the video's promise: the title (and the cover) say it.
                spoken.insert(0, _fact_sentence(point, product, True, from_description))
            claims = [_title_claim(fact_clause(text), product) for text in spoken]
            claim = next((c for c in claims if c and not c.startswith(("are ", "is "))), None)
            if claim and len(title) + 2 + len(claim) <= 100:
                title = f"{product.title}: {claim}"
        plan = ProductionPlan(
            title=title,
            description=description,
            hashtags=tags,
            style=settings.style,
            duration_seconds=settings.video_duration_seconds,
            scenes=scenes,
            voiceover_script=" ".join(scene.narration for scene in scenes),
            subject=product.title,
            subject_terms=terms,
        )
        prompts = {
            "template": "local-v2",
            "shape": shape,
            "hook": scenes[0].narration,
            "reference": product.title,
            "subject": "reference",
            "theme": settings.theme,
            "theme_matched": str(subject.theme_matched).lower(),
            "topic_hashtags": " ".join(f"#{t}" for t in subject.hashtags),
            "trend_pattern": str(report.get("pattern") or ""),
        }
        return PlanResult(plan=plan, provider="local", model=None, prompts=prompts, cost=0.0)

    # -- a video about the theme itself, from the trends about it --------------------------

    def _theme_plan(
        self, config: ThemeConfig, subject: Subject, rng: random.Random, turn: int
    ) -> PlanResult:
        settings = config.config
        theme = subject.theme
        topic = natural_case(theme)
        tips = theme_tips(subject.trends, theme)
        if len(tips) >= 2:
            # The creators' own takeaways make a video worth watching; their titles alone
            # ("Istanbul from above") only say what others made.
            return self._tips_plan(config, subject, tips, rng, turn)
        ideas = _distinct_ideas(subject.trends)
        if not ideas:
            # Never a video that says nothing: the job fails at once, saying what to add.
            raise FatalStageError(theme_uncovered_message(theme))
        shape = THEME_SHAPES[turn % len(THEME_SHAPES)]
        if shape == "countdown":
            ideas = sorted(ideas, key=lambda i: i[1])  # the biggest last
        else:
            ideas = (
                ideas[turn // len(THEME_SHAPES) % len(ideas) :]
                + ideas[: turn // len(THEME_SHAPES) % len(ideas)]
            )
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ideas) + 1)
        # The last word of a theme is usually its noun ("home workout": a workout).
        terms = list(reversed(_keywords(theme, limit=8)))
        body: list[Line] = []
        for n, (idea, views, _style, _seconds) in enumerate(ideas[:5], start=1):
            if shape == "countdown":
                # The screen shows the views ("322K views"); the voice says the idea, so no
                # number is said and shown at once.
                text = f"Number {_SPOKEN_NUMBERS[n - 1]}: {idea}."
                body.append(
                    Line(
                        "list_item",
                        text,
                        f"{short_count(views)} views" if views else None,
                        scene_subjects(idea, [], 3, first=True),
                        number=n,
                        short=f"Number {_SPOKEN_NUMBERS[n - 1]}: {idea}.",
                    )
                )
            else:
                ordinal = ("First", "Next", "Then", "And", "Plus")[n - 1]
                text = f"{ordinal}, {idea}."  # the views are on screen, not said twice
                body.append(
                    Line(
                        "fact" if views else "feature",
                        text,
                        f"{short_count(views)} views" if views else None,
                        scene_subjects(idea, [], 3, first=True),
                        short=f"{ordinal}, {idea}.",
                    )
                )
        styles = [s for _, _, s, _ in ideas if s]
        durations = sorted(d for _, _, _, d in ideas if d > 0)
        if styles and durations:
            common = max(set(styles), key=styles.count)
            limit = max(10, math.ceil(durations[len(durations) // 2] / 5) * 5)
            body.append(
                Line(
                    "fact",
                    f"The format that wins: {_STYLE_PHRASES.get(common, 'short videos')} "
                    f"under {limit} seconds.",
                    f"Under {limit} s",
                    [],
                )
            )
        cta = _cta(config, topic, _capital(topic))
        hook = Line("hook", "", _capital(topic), scene_subjects(theme, [], 2))
        # Ideas that fit, in order, skipping one too long to say: two short ideas say more than
        # one long one. About ten words are kept for the hook.
        room = budget - spoken_load(cta.narration) - 10
        packed: list[Line] = []
        for line in body:
            if sum(spoken_load(x.narration) for x in packed) + spoken_load(line.narration) <= room:
                packed.append(line)
        for i, line in enumerate(packed):
            if line.number is not None:
                line.number = i + 1
                line.narration = re.sub(
                    r"^Number \w+", f"Number {_SPOKEN_NUMBERS[i]}", line.narration
                )
            else:
                line.narration = re.sub(
                    r"^\w+,",
                    ("First", "Next", "Then", "And", "Plus", "Also")[min(i, 5)] + ",",
                    line.narration,
                )
        body = packed or body[:1]
        lines = fit_lines([hook, *body, cta], budget, n_max)
        if shape == "countdown":
            templates: tuple[str, ...] = (
                "{n} {topic} {noun} trending now, biggest last.",
                "This week's top {topic} videos, counted up.",
            )
        else:
            templates = (
                "{n} {topic} {noun} trending this week.",
                "{n} {topic} {noun} worth your time this week.",
            )
        hook_text = rng.choice(templates)
        # The hook says how many ideas follow: written last, and an idea goes (never a word of
        # one) while the whole script does not fit.
        while True:
            count = sum(1 for line in lines[1:-1] if line.kind != "fact" or line.number)
            count = sum(1 for line in lines[1:-1] if line.headline and "views" in line.headline)
            count = count or len(lines) - 2
            noun = "idea" if count == 1 else "ideas"
            lines[0].narration = _capital(
                hook_text.format(n=_COUNT_WORDS[min(count, 9)], topic=topic, noun=noun)
            )
            head = f"{_capital(topic)}: {count} {noun}"
            lines[0].headline = (
                head if len(head) <= MAX_HEADLINE_CHARS else _capital(topic)[:MAX_HEADLINE_CHARS]
            )
            if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                break
            lines = [*lines[:-2], lines[-1]]
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        trend_tags = _on_topic_tags(
            subject.hashtags, [*topic_keywords(theme), _phrase(theme).replace(" ", "")]
        )
        tags = plan_hashtags([theme], trend_tags, settings.target_platform)
        title = lines[0].narration.rstrip(".")
        summary = "; ".join(idea for idea, _, _, _ in ideas[: len(lines) - 2])
        return _theme_result(
            config,
            subject,
            scenes,
            title=title[:100] if len(title) <= 100 else _capital(topic),
            description=f"This week's most watched {topic} videos: {summary}. {' '.join(tags)}",
            tags=tags,
            terms=terms,
            shape=shape,
        )

    def _tips_plan(
        self,
        config: ThemeConfig,
        subject: Subject,
        tips: Sequence[Tip],
        rng: random.Random,
        turn: int,
    ) -> PlanResult:
        """Tips from the theme's trending videos, one a scene: what their creators say works,
        credited in the description."""
        settings = config.config
        theme = subject.theme
        topic = natural_case(theme)
        start = turn % len(tips)
        ordered = [*tips[start:], *tips[:start]]  # another day, another tip first
        budget = _plan_budget(config)
        n_max = default_scene_count(config, len(ordered) + 1)
        terms = list(reversed(_keywords(theme, limit=8)))
        body = [
            Line(
                "list_item",
                tip.sentence,
                # A heading the voice does not say (what the tip is about), else the tip's own
                # figure ("30 sec" lands as it is said), or none: a bare "392K views" on a tip
                # explained nothing to viewers.
                tip.label or only_figure(tip.sentence),
                _tip_subjects(tip.sentence, theme),
                number=n,
                short=tip.short,
            )
            for n, tip in enumerate(ordered[:5], start=1)
        ]
        cta = _cta(config, None, _capital(topic))
        if not settings.cta and not settings.link:
            # A question about the tips a viewer can answer in a comment ("Save this for
            # later." read as a stock ending). The end card says nothing the hook did not (a
            # "Home workout" label added nothing): the picture alone.
            go = all(_place_of(t.sentence) for t in ordered[:3])
            cta.narration = f"Which one {'is next on your list' if go else 'will you try first'}?"
            cta.headline = None
        hook = Line("hook", "", _capital(topic), scene_subjects(theme, [], 2))
        lines = [hook, *_pack_tips(body, budget - spoken_load(cta.narration) - 10, n_max - 2), cta]
        # The ending asks for the save; the opening promises use (a viewer heard "worth
        # saving" at the start and "save this" at the end: the same ask twice).
        templates = (
            "{n} {topic} tips you can use today.",
            "{n} {topic} tips from this week's best videos.",
        )
        first = rng.choice(templates)
        while True:
            count = len(lines) - 2
            for hook_text in (first, *(t for t in templates if t != first)):
                # The shorter opening when the longer one would cost a tip.
                lines[0].narration = _capital(
                    hook_text.format(n=_COUNT_WORDS[min(count, 9)], topic=topic).replace(
                        "One " + topic + " tips", "One " + topic + " tip"
                    )
                )
                if _fits(lines, budget):
                    break
            if _fits(lines, budget) or len(lines) <= MIN_SCENES:
                break
            lines = [*lines[:-2], lines[-1]]
        # The places the tips are about, asked of the viewer when every tip has one ("Headed
        # to Copenhagen, Istanbul or Kyoto? Three tips to know before you go."): a viewer
        # going there stays; "Three travel tips for ..." read as a title.
        places = [_place_of(line.narration) for line in lines[1:-1]]
        before = [(line, line.narration) for line in lines]
        # The title (and the cover) is the promise, not the whole opening read out.
        title = lines[0].narration.rstrip(".")
        if not all(places) and claim_opening(lines, topic):
            if _fits(lines, budget):
                title = lines[0].narration.split(". ", 1)[0].rstrip(".")  # the claim
            else:
                lines = [line for line, _ in before]  # the claim costs a tip: the plain opening
                for line, text in before:
                    line.narration = text
        elif all(places) and len(set(places)) == len(places) > 1:
            listed = ", ".join(p for p in places[:-1] if p)
            said = _COUNT_WORDS[len(lines) - 2]
            # "Three travel tips to know before you go." kept the first tip waiting 6 s.
            lines[0].narration = f"Headed to {listed} or {places[-1]}? One {topic} tip for each."
            for line in lines[1:-1]:  # one each, as promised: "..., and picnic ..." was two
                line.narration = line.short or line.narration
            title = _capital(f"{said} {topic} tips for {listed} and {places[-1]}")
        # The screen shows the picture alone under the spoken hook: a card of the same words is
        # the sentence twice, and a count of tips ("3 HOME WORKOUT TIPS") over "Ten minutes
        # ..." was two numbers at once (two viewers); the "1 / 3" chips count the tips.
        lines[0].headline = None
        for n, line in enumerate(lines[1:-1], start=1):
            line.number = n
        scenes = scenes_from_lines(
            lines, settings.video_duration_seconds, settings.voice.rate, terms
        )
        trend_tags = _on_topic_tags(
            subject.hashtags, [*topic_keywords(theme), _phrase(theme).replace(" ", "")]
        )
        tags = plan_hashtags([theme], trend_tags, settings.target_platform)
        # The tips said, in the order said (packing may skip one too long to say).
        tip_of = {id(line): tip for line, tip in zip(body, ordered, strict=False)}
        used = [tip_of[id(line)] for line in lines[1:-1]]
        credits = ", ".join(dict.fromkeys(f"@{t.creator}" for t in used if t.creator))
        said = " ".join(line.narration for line in lines[1:-1])
        description = f"Tips from this week's most watched {topic} videos. {said}"
        if credits:
            description += f" Thanks to {credits}."
        return _theme_result(
            config,
            subject,
            scenes,
            title=title[:100],
            description=f"{description} {' '.join(tags)}",
            tags=tags,
            terms=terms,
            shape="tips",
            sources=" ".join(t.external_id for t in used),
        )
