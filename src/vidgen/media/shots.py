"""A scene's shots over time: when its second beat cuts in, when its figure lands and when
each further picture pops in on its word. Pure timing: the composition draws the cards."""

from __future__ import annotations

from dataclasses import replace

from vidgen.media.scenes import POP_SCALES, SceneVisual

# Each shot of a two-beat scene is on screen at least this long (s): a cut sooner flickers.
MIN_BEAT = 1.2
# A figure landing late in its sentence stays at least this long (s).
MIN_LAND = 0.6
# A figure landing on a scene's pictures moves them aside over this many frames.
GLIDE = 6
# A picture popping in on its word comes no nearer a cut than this (s): nearer the scene's
# start it comes with the scene, nearer its end it comes this much before the word.
MIN_REVEAL = 0.4


def scene_shots(
    visual: SceneVisual, start: float, end: float, at: float | None, land: float | None = None
) -> list[tuple[SceneVisual, float, float]]:
    """A scene's shots: (what it shows, from, to). A cut to new pictures at ``at`` happens when
    each shot is long enough to see (``MIN_BEAT``). A figure lands at ``land``, on the word
    saying it, on the pictures on screen: from the cut when said in its first ``MIN_LAND``,
    and it stays at least ``MIN_LAND``; it stays on over the new pictures too."""
    second = visual.second_beat()
    if second is None or at is None:
        return [(visual, start, end)]
    if not visual.then:  # the second beat is the figure landing
        if at < start + MIN_LAND:
            return [(second, start, end)]
        if at <= end - MIN_LAND:
            return [(visual, start, at), (second, at, end)]
        return [(visual, start, end)]
    if not start + MIN_BEAT <= at <= end - MIN_BEAT:
        return [(visual, start, end)]
    if visual.lands and land is not None and land < at:
        landed = visual.landed()
        if land < start + MIN_LAND:
            return [(landed, start, at), (second, at, end)]
        if land <= at - MIN_LAND:
            return [(visual, start, land), (landed, land, at), (second, at, end)]
    return [(visual, start, at), (second, at, end)]


def build_up(
    shot: SceneVisual,
    since: float,
    until: float,
    times: dict[str, float],
    fps: int,
    before: SceneVisual | None = None,
) -> list[tuple[SceneVisual, float, float, tuple[float, ...]]]:
    """A shot as it builds up: each further picture it shows that ``times`` says is named
    later pops in on its own (``POP_SCALES``, a frame a step) at that time, the rest of the
    card still. (moment, from, to, pop): pop is () for the shot's own entrance (the whole card
    pops), else (1.0,). A shot after another of its scene (``before``) does not pop whole:
    what stays on screen (the figure, the product) stays still, and only its new main picture
    pops in (a whole card popping again dimmed and shrank what was already there, a viewer
    saw "40 HOURS" blink as the calendar came)."""
    further = {p.key for p in shot.pictures[1:]}
    frame = 1.0 / fps
    grow = frame * (len(POP_SCALES) - 1)
    events: list[tuple[float, str]] = []
    # Named after this shot (a later shot of the scene shows it): not drawn here at all.
    later = frozenset(k for k, at in times.items() if k in further and at >= until)
    if until - since >= 2 * MIN_REVEAL + grow:
        for key, at in sorted(times.items(), key=lambda kv: kv[1]):
            if key not in further or key in later or at < since + MIN_REVEAL:
                continue
            at = min(at, until - MIN_REVEAL - grow)
            if events:
                at = max(at, events[-1][0] + grow + frame)
            if at <= until - MIN_REVEAL - grow + 1e-9:
                events.append((at, key))
    hidden = frozenset(key for _, key in events) | later
    Moment = tuple[SceneVisual, float, float, tuple[float, ...]]
    first = events[0][0] if events else until
    out: list[Moment] = []
    if before is None:
        out.append((replace(shot, hidden=hidden), since, first, ()))
    else:
        # What moves: the new main picture pops in; or, the figure landing on the same
        # pictures, they glide aside to make room as it grows in (in one frame, they shrank).
        new = shot.pictures[0].key not in {p.key for p in before.pictures}
        lands = not new and shot.headline != before.headline
        steps: list[SceneVisual] = (
            [replace(shot, hidden=hidden, growing=(shot.pictures[0].key, scale))
             for scale in POP_SCALES[:-1]]
            if new
            else [replace(shot, hidden=hidden, morph=(before, (j + 1) / (GLIDE + 1)))
                  for j in range(GLIDE)]
            if lands
            else []
        )  # fmt: skip
        if first - since <= frame * len(steps):
            steps = []
        for j, moment in enumerate(steps):
            out.append((moment, since + j * frame, since + (j + 1) * frame, (1.0,)))
        entered = since + frame * len(steps)
        out.append((replace(shot, hidden=hidden), entered, first, (1.0,)))
    for n, (at, key) in enumerate(events):
        hidden = hidden - {key}
        for j, scale in enumerate(POP_SCALES[:-1]):
            moment = replace(shot, hidden=hidden, growing=(key, scale))
            out.append((moment, at + j * frame, at + (j + 1) * frame, (1.0,)))
        rest = events[n + 1][0] if n + 1 < len(events) else until
        out.append((replace(shot, hidden=hidden), at + grow, rest, (1.0,)))
    return out
