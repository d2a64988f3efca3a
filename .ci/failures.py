"""Print what failed in a tox run, from its ``--result-json`` file, at the end of the log.

CI shows only the tail of a long log: a failing env's traceback, printed minutes earlier,
would be cut off. Each failed command's pytest failures (or its last lines) come again here.
"""

from __future__ import annotations

import json
import sys

MAX_LINES = 200


def failed_outputs(result: dict[str, object]) -> list[tuple[str, str, str]]:
    found = []
    envs = result.get("testenvs")
    for name, env in (envs.items() if isinstance(envs, dict) else []):
        for phase in ("setup", "test"):
            for command in env.get(phase, []) if isinstance(env, dict) else []:
                if isinstance(command, dict) and command.get("retcode") not in (0, None):
                    text = f"{command.get('output', '')}{command.get('err', '')}"
                    found.append((name, " ".join(command.get("command", [])), text))
    return found


def digest(text: str) -> list[str]:
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if "= FAILURES =" in line or "= ERRORS =" in line:
            lines = lines[index:]
            break
    return lines[-MAX_LINES:]


def main(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as file:
            result = json.load(file)
    except (OSError, ValueError) as err:
        print(f"no tox result to digest ({path}): {err}")
        return 0
    for env, command, text in failed_outputs(result):
        print(f"\n===== failed in tox env {env}: {command}")
        print("\n".join(digest(text)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
