"""Theme configuration: the YAML file a job is generated from.

Shape (see ``sample-data.yml``): a ``config:`` block with the theme, platform, duration, style,
render profile and providers per stage, and ``content_references:`` with the products or topics
the video talks about. Every problem is reported as ``<file>: <field>: <reason>`` before a job
is queued.

Lookup order when no ``--config`` is given: ``$VIDGEN_CONFIG``, ``./sample-data.yml``, then the
copy shipped inside the package (so cron, starting in ``$HOME``, works with no flags).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from vidgen.errors import InvalidInput
from vidgen.registry import names

MAX_CONFIG_BYTES = 1_000_000
MAX_YAML_ALIASES = 100
MAX_YAML_DEPTH = 50

Style = Literal["cinematic", "talking-head", "tutorial", "listicle", "product-demo"]
STYLES: tuple[str, ...] = ("cinematic", "talking-head", "tutorial", "listicle", "product-demo")

# name -> (width, height, fps). Always 9:16; "preview" keeps tests and drafts fast.
PROFILES: dict[str, tuple[int, int, int]] = {
    "full": (1080, 1920, 30),
    "preview": (360, 640, 30),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        # Same rule as --theme: text ends up in plans, overlays and argv of TTS tools.
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str):
                bad = next((ch for ch in text if ord(ch) < 32 and ch not in "\n\t"), None)
                if bad is not None:
                    raise ValueError(f"contains control character {bad!r}; remove it")
        return value


if TYPE_CHECKING:
    TrendsName = str
    AnalysisName = str
    PlannerName = str
    VisualsName = str
    TtsName = str
else:
    # The allowed names come from the registry (a Literal of them: same validation and errors).
    TrendsName = Literal[names("trends")]
    AnalysisName = Literal[names("analysis")]
    PlannerName = Literal[names("planner")]
    VisualsName = Literal[names("visuals")]
    TtsName = Literal[names("tts")]


class Providers(_Strict):
    trends: TrendsName = "sample"
    analysis: AnalysisName = "local"
    planner: PlannerName = "local"
    visuals: VisualsName = "procedural"
    tts: TtsName = "piper"


class Voice(_Strict):
    name: str = Field(
        "en-us",
        min_length=1,
        max_length=255,
        description="espeak-ng voice, Piper voice (name, language or .onnx path) or API voice",
    )
    rate: int = Field(165, ge=80, le=400, description="words per minute")


class Music(_Strict):
    path: Path
    volume: float = Field(0.25, ge=0.0, le=1.0)


def _music_shorthand(value: Any) -> Any:
    # `music: none` (or false) turns the default bed off; `music: some/file.mp3` is a path.
    if value is False or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
        return "none"
    if isinstance(value, str):
        return {"path": value}
    return value


class ThemeSettings(_Strict):
    theme: str = Field("default", min_length=1, max_length=200)
    target_platform: Literal["tiktok", "youtube_shorts", "instagram_reels"] = "tiktok"
    video_duration_seconds: float = Field(20, ge=6, le=180)
    style: Style = "product-demo"
    tone: str = Field("upbeat", max_length=60)
    language: str = Field("en", min_length=2, max_length=10)
    profile: Literal["full", "preview"] = "full"
    scenes: int | None = Field(None, ge=3, le=6, description="scene count; default from duration")
    voice: Voice = Field(default_factory=lambda: Voice())
    # None: a packaged royalty-free track chosen by style and tone (vidgen.media.music).
    music: Annotated[Music | Literal["none"] | None, BeforeValidator(_music_shorthand)] = None
    thumbnail_time: float = Field(1.0, ge=0)
    providers: Providers = Field(default_factory=lambda: Providers())
    images: list[Path] = Field(default_factory=list, max_length=50)
    trend_limit: int = Field(200, ge=1, le=5000)
    llm_model: str | None = Field(None, max_length=100)
    max_cost_usd: float | None = Field(
        None, ge=0, le=10_000, description="most a job may spend on paid providers, in USD"
    )

    @model_validator(mode="after")
    def _check(self) -> ThemeSettings:
        if self.thumbnail_time >= self.video_duration_seconds:
            raise ValueError(
                f"thumbnail_time {self.thumbnail_time} must be less than "
                f"video_duration_seconds {self.video_duration_seconds}"
            )
        if self.providers.visuals == "images" and not self.images:
            raise ValueError("providers.visuals is 'images' but 'images:' lists no files")
        return self


class ContentReference(_Strict):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    talking_points: list[str] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="what the reference is about, for matching --theme and trends",
    )

    @field_validator("tags")
    @classmethod
    def _tags_short(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not tag.strip() or len(tag) > 60:
                raise ValueError("each tag must be 1-60 characters")
        return tags

    @field_validator("talking_points")
    @classmethod
    def _points_not_blank(cls, points: list[str]) -> list[str]:
        for point in points:
            if not point.strip() or len(point) > 300:
                raise ValueError("each talking point must be 1-300 characters")
        return points


class ThemeConfig(_Strict):
    config: ThemeSettings
    content_references: list[ContentReference] = Field(min_length=1, max_length=50)
    source: Path | None = Field(None, exclude=True, description="file this was loaded from")
    file_theme: str | None = Field(
        None, exclude=True, description="the file's own theme, before any --theme override"
    )

    @property
    def theme_is_explicit(self) -> bool:
        """True when the job's theme (``--theme``) differs from the one the file states."""
        if self.file_theme is None:
            return False
        return self.config.theme.casefold().strip() != self.file_theme.casefold().strip()

    @property
    def resolution(self) -> tuple[int, int, int]:
        return PROFILES[self.config.profile]

    @property
    def voice_name(self) -> str:
        """``voice.name`` for the TTS provider; a voice given as a model file (a Piper
        ``.onnx``) is resolved against the config file like music and images."""
        name = self.config.voice.name
        if name.endswith(".onnx") or "/" in name or "\\" in name:
            return str(self.resolve_path(Path(name).expanduser()))
        return name

    def named_files(self) -> list[tuple[str, Path]]:
        """(field, resolved path) of every input file this config names."""
        named: list[tuple[str, Path]] = []
        if isinstance(self.config.music, Music):  # not None (default bed) or "none"
            named.append(("config.music.path", self.resolve_path(self.config.music.path)))
        for index, image in enumerate(self.config.images):
            named.append((f"config.images[{index}]", self.resolve_path(image)))
        if self.config.voice.name.endswith(".onnx"):
            named.append(("config.voice.name", Path(self.voice_name)))
        return named

    def check_files(self) -> None:
        """Every file the config names is a readable regular file, or InvalidInput with the
        config file, the field and the reason. Checked at ``generate`` time with ``stat``,
        never by opening: a FIFO would block (see ``files.regular_file_problem``)."""
        from vidgen.files import regular_file_problem

        where = str(self.source) if self.source is not None else "config"
        for field, path in self.named_files():
            problem = regular_file_problem(path)
            if problem is not None:
                raise InvalidInput(f"{where}: {field}: {path}: {problem}; fix the path")

    def resolve_path(self, path: Path) -> Path:
        """Relative media paths in a config are relative to the config file, not the cwd."""
        if path.is_absolute() or self.source is None:
            return path
        return (self.source.parent / path).resolve()


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs ("billion laughs") before they are expanded."""

    aliases_seen = 0
    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} YAML aliases (&anchor/*ref)")
        # Deep nesting would otherwise end in a RecursionError traceback.
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise yaml.YAMLError(f"nested more than {MAX_YAML_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # PyYAML keeps the last of two equal keys; a second 'config:' would silently win.
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    """Parse YAML (or JSON) with the guards theme configs have: no alias bombs, no nesting
    deeper than MAX_YAML_DEPTH (a RecursionError otherwise), no duplicate keys. Raises
    ``yaml.YAMLError`` or ``ValueError`` (a value YAML cannot represent) for the caller to
    report with its file name. Batch files use it too."""
    return yaml.load(text, Loader=_CountingLoader)


def packaged_config_path() -> Path:
    return Path(str(resources.files("vidgen") / "data" / "sample-data.yml"))


def resolve_config_path(explicit: str | Path | None, env_config: Path | None = None) -> Path:
    """The documented lookup order; returns an absolute path (which may not exist if explicit)."""
    if explicit is not None and str(explicit).strip() != "":
        return _expand(Path(explicit)).absolute()
    if env_config is not None:
        return _expand(env_config).absolute()
    local = Path.cwd() / "sample-data.yml"
    if local.is_file():
        return local.absolute()
    return packaged_config_path()


def _expand(path: Path) -> Path:
    try:
        return path.expanduser()
    except RuntimeError:  # "~nosuchuser/x.yml": Python cannot determine that home directory
        user = str(path).split("/", 1)[0]
        raise InvalidInput(
            f"{path}: no user {user[1:]!r} to expand {user!r} for; "
            "pass the config as an absolute path"
        ) from None


def _format_loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def load_config(path: Path) -> ThemeConfig:
    """Read, parse and validate a theme config; raise InvalidInput with file, field and fix."""
    where = str(path)
    try:
        if not path.exists():
            raise InvalidInput(f"{where}: config file not found; name an existing theme file")
        if not path.is_file():
            raise InvalidInput(f"{where}: not a regular file; name a YAML theme file")
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InvalidInput(
                f"{where}: config is {size} bytes, more than the {MAX_CONFIG_BYTES} allowed; "
                "a theme config is a small YAML file"
            )
        data = path.read_bytes()
        key = (str(path.absolute()), data)
        cached = _parsed.get(key)
        if cached is not None:  # same file, same bytes: skip YAML parsing and validation
            return cached.model_copy(deep=True)
    except PermissionError:
        raise InvalidInput(f"{where}: cannot read the config file (permission denied)") from None
    except OSError as exc:
        raise InvalidInput(f"{where}: cannot read the config file ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where}: not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    try:
        raw = load_yaml(text)
    except ValueError as exc:  # a 5000-digit integer, a date like 2024-13-45
        reason = " ".join(str(exc).split(";")[0].split())
        raise InvalidInput(f"{where}: invalid YAML: cannot read a value ({reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(f"{where}: invalid YAML{at}: {problem}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"{where}: expected a mapping with 'config:' and 'content_references:' at the top level"
        )
    try:
        cfg = ThemeConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _format_loc(tuple(err["loc"]))
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {str(got)[:60]!r})"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {field}: {msg}{shown}") from None
    cfg = cfg.model_copy(update={"source": path.absolute(), "file_theme": cfg.config.theme})
    if len(_parsed) >= 32:
        _parsed.clear()
    _parsed[key] = cfg
    return cfg.model_copy(deep=True)


# Parsed configs by (absolute path, file bytes). A worker loads the same theme file for every
# job; pure-Python YAML parsing plus validation was ~10 ms of each job's orchestration cost.
# Keyed on the content, so an edited file is always parsed again.
_parsed: dict[tuple[str, bytes], ThemeConfig] = {}
