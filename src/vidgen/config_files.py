"""Where a theme config file is and how it is read: the lookup order ($VIDGEN_CONFIG, then
``$VIDGEN_HOME/config.yml`` written from the shipped sample) and the guarded YAML loader theme
configs and batch files share. ``vidgen.config`` re-exports every name here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vidgen.errors import InvalidInput

MAX_YAML_ALIASES = 100
MAX_YAML_DEPTH = 50


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


DEFAULT_CONFIG_NAME = "config.yml"


def default_config_path(home: Path) -> Path:
    """``<home>/config.yml``, the one default config; written from the shipped sample the
    first time it is needed (never overwritten: it is the user's file from then on)."""
    from vidgen.files import atomic_write_bytes

    path = (home / DEFAULT_CONFIG_NAME).absolute()
    if not path.exists() and not path.is_symlink():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, packaged_config_path().read_bytes())
        except OSError as exc:
            raise InvalidInput(
                f"{path}: cannot create the default config ({exc.strerror}); "
                "make VIDGEN_HOME writable or pass --config"
            ) from None
    return path


def resolve_config_path(
    explicit: str | Path | None, env_config: Path | None = None, home: Path | None = None
) -> Path:
    """The documented lookup order: ``explicit`` (--config), ``env_config`` ($VIDGEN_CONFIG),
    then ``<home>/config.yml`` (the packaged sample itself when no home is given).

    Returns an absolute path; an explicit one may not exist (load_config says so). A
    ``$VIDGEN_CONFIG`` that names no file is refused here, naming the variable."""
    if explicit is not None and str(explicit).strip() != "":
        return _expand(Path(explicit)).absolute()
    if env_config is not None:
        path = _expand(env_config).absolute()
        if not path.is_file():
            reason = "no such file" if not path.exists() else "not a regular file"
            raise InvalidInput(
                f"VIDGEN_CONFIG={env_config}: {reason}; fix or unset VIDGEN_CONFIG "
                "(without it the default config is $VIDGEN_HOME/config.yml)"
            )
        return path
    if home is not None:
        return default_config_path(home)
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
