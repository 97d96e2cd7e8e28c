"""Pin the image of one environment in ``k8s/envs/<env>/values.yaml``.

The delivery workflow writes the image it just pushed into dev, and promotion
copies dev's image into prod::

    python3 scripts/bump_image.py set k8s/envs/dev/values.yaml --tag SHA --digest sha256:...
    python3 scripts/bump_image.py promote k8s/envs/dev/values.yaml k8s/envs/prod/values.yaml
    python3 scripts/bump_image.py show k8s/envs/prod/values.yaml

Only the ``tag:`` and ``digest:`` lines of the top-level ``image:`` block are
rewritten, so comments and layout stay as people wrote them and the git diff is
two lines. With ``--forward-only`` (what CI uses) nothing changes when the pinned
tag is a commit whose history already holds the new tag: a re-run of an old
delivery never rolls dev back (roll back with ``git revert`` instead).
Standard library only: it runs on a bare CI runner.
Exit codes: 0 done (or nothing to change), 2 bad arguments or a file without the
expected ``image`` block.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

KEYS = ("tag", "digest")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
BLOCK_START = re.compile(r"image:\s*(#.*)?")
KEY_LINE = re.compile(r"(?P<indent>\s+)(?P<key>[A-Za-z_]+):(?P<value>[^#]*?)\s*(?P<comment>#.*)?")


class BumpError(Exception):
    """The arguments or the values file are not what this script can edit."""


def check_image(tag: str, digest: str) -> None:
    """Refuse anything but an immutable-looking tag and a sha256 digest."""
    if not TAG.fullmatch(tag):
        raise BumpError(f"not a valid image tag: {tag!r}")
    if not DIGEST.fullmatch(digest):
        raise BumpError(f"not a sha256 digest: {digest!r} (expected sha256:<64 hex digits>)")


def _image_lines(lines: Sequence[str], name: str) -> dict[str, int]:
    """Line numbers of ``tag`` and ``digest`` inside the top-level ``image:`` block."""
    start = next((i for i, line in enumerate(lines) if BLOCK_START.fullmatch(line)), None)
    if start is None:
        raise BumpError(f"{name}: no top-level `image:` block")
    found: dict[str, int] = {}
    indent: str | None = None
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = KEY_LINE.fullmatch(line)
        if match is None:
            break  # the next top-level key (or a line we do not understand) ends the block
        indent = indent or match["indent"]
        if match["indent"] == indent and match["key"] in KEYS:
            found[match["key"]] = number
    missing = [key for key in KEYS if key not in found]
    if missing:
        raise BumpError(f"{name}: the `image:` block has no {', '.join(missing)} line")
    return found


def read_image(text: str, name: str = "values") -> dict[str, str]:
    """The ``tag`` and ``digest`` values of the ``image:`` block."""
    lines = text.splitlines()
    result = {}
    for key, number in _image_lines(lines, name).items():
        match = KEY_LINE.fullmatch(lines[number])
        assert match is not None
        result[key] = match["value"].strip().strip("\"'")
    return result


def replace_image(text: str, values: Mapping[str, str], name: str = "values") -> str:
    """``text`` with the ``image:`` block's ``tag`` and ``digest`` set to ``values``."""
    lines = text.splitlines(keepends=True)
    for key, number in _image_lines([line.rstrip("\r\n") for line in lines], name).items():
        line = lines[number]
        ending = line[len(line.rstrip("\r\n")) :]
        match = KEY_LINE.fullmatch(line.rstrip("\r\n"))
        assert match is not None
        comment = f"  {match['comment']}" if match["comment"] else ""
        # JSON strings of these characters are valid YAML double-quoted scalars.
        lines[number] = f"{match['indent']}{key}: {json.dumps(values[key])}{comment}{ending}"
    return "".join(lines)


def contains(newer: str, older: str, repo: Path) -> bool:
    """Whether git commit ``newer`` exists in ``repo`` and has ``older`` in its history."""
    known = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{newer}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if known.returncode != 0:
        return False
    ancestor = subprocess.run(
        ["git", "-C", str(repo), "merge-base", "--is-ancestor", older, newer],
        capture_output=True,
        check=False,
    )
    return ancestor.returncode == 0


def set_image(path: Path, tag: str, digest: str) -> bool:
    """Pin ``path`` to ``tag`` and ``digest``; False when it already was."""
    check_image(tag, digest)
    text = path.read_text(encoding="utf-8")
    updated = replace_image(text, {"tag": tag, "digest": digest}, str(path))
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True


def promote(source: Path, target: Path) -> bool:
    """Copy ``source``'s image pin into ``target``; False when they already match."""
    image = read_image(source.read_text(encoding="utf-8"), str(source))
    return set_image(target, image["tag"], image["digest"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    setter = commands.add_parser("set", help="pin a values file to a tag and digest")
    setter.add_argument("values", type=Path)
    setter.add_argument("--tag", required=True)
    setter.add_argument("--digest", required=True)
    setter.add_argument(
        "--forward-only",
        action="store_true",
        help="do nothing when the pinned tag is a commit that already contains --tag",
    )
    promoter = commands.add_parser("promote", help="copy one values file's image pin to another")
    promoter.add_argument("source", type=Path)
    promoter.add_argument("target", type=Path)
    shower = commands.add_parser("show", help="print a values file's tag and digest")
    shower.add_argument("values", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "show":
            image = read_image(args.values.read_text(encoding="utf-8"), str(args.values))
            print(f"{image['tag']} {image['digest']}")
            return 0
        if args.command == "set":
            target = args.values
            pinned = read_image(target.read_text(encoding="utf-8"), str(target))["tag"]
            if args.forward_only and contains(pinned, args.tag, target.resolve().parent):
                print(f"{target}: pinned to {pinned}, which already contains {args.tag}")
                return 0
            changed = set_image(args.values, args.tag, args.digest)
        else:
            changed = promote(args.source, args.target)
            target = args.target
    except (BumpError, OSError) as error:
        print(f"bump_image: {error}", file=sys.stderr)
        return 2
    print(f"{target}: {'updated' if changed else 'already pinned to that image'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
