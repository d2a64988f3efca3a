"""Inngest configuration files (``inngest.json``, ``inngest.yaml``, ``inngest.yml``).

As ``inngest dev`` does: the file named by ``--config`` or ``INNGEST_CONFIG``, else the first
of those names found in the working directory, its parents, then ``~/.config/inngest``. A
found file that does not parse is skipped with a warning; a named one is an error."""

from __future__ import annotations

import json
import logging
import os
import typing

from inngest._engine import simple_yaml

NAMES = ("inngest.json", "inngest.yaml", "inngest.yml")

log = logging.getLogger("inngest.engine")


class ConfigFileError(ValueError):
    pass


class ConfigFile(typing.NamedTuple):
    path: str
    values: dict[str, simple_yaml.Value]


def load(explicit: str | None) -> ConfigFile | None:
    """The named file (errors raise ``ConfigFileError``) or the first readable found one."""
    if explicit:
        try:
            return ConfigFile(explicit, read(explicit))
        except ConfigFileError as err:
            raise ConfigFileError(f"error reading config file {explicit}: {err}") from None
    for directory in search_directories():
        for name in NAMES:
            path = os.path.join(directory, name)
            if not os.path.isfile(path):
                continue
            try:
                return ConfigFile(path, read(path))
            except ConfigFileError as err:
                log.warning("error reading config file %s: %s", path, err)
    return None


def search_directories() -> list[str]:
    directories = []
    directory = os.getcwd()
    while True:
        directories.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    directories.append(os.path.join(os.path.expanduser("~"), ".config", "inngest"))
    return directories


def read(path: str) -> dict[str, simple_yaml.Value]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigFileError(str(err)) from None
    extension = os.path.splitext(path)[1]
    if extension == ".json":
        return _json(text)
    if extension in (".yaml", ".yml"):
        return _yaml(text)
    try:
        return _yaml(text)
    except ConfigFileError:
        try:
            return _json(text)
        except ConfigFileError as err:
            raise ConfigFileError(f"config file must be JSON or YAML: {err}") from None


def _json(text: str) -> dict[str, simple_yaml.Value]:
    try:
        values = json.loads(text)
    except ValueError as err:
        raise ConfigFileError(f"invalid JSON: {err}") from None
    if not isinstance(values, dict):
        raise ConfigFileError("the JSON must be an object of settings")
    return values


def _yaml(text: str) -> dict[str, simple_yaml.Value]:
    try:
        return simple_yaml.loads(text)
    except simple_yaml.YamlError as err:
        raise ConfigFileError(f"invalid YAML: {err}") from None
