"""The bench's table from a bench.json, as the README quotes it: how the run
was made (commit, clean tree or not, machine), then the table bench.py
printed, a missed target with by how much. So the README's figures come from
a file kept with the code (docs/bench/bench.json), never typed in by hand.

    /usr/bin/python3 tests/bench/table.py docs/bench/bench.json
    /usr/bin/python3 tests/bench/table.py --readme README.md docs/bench/bench.json

The first prints the block; the second rewrites it in README.md, between the
markers below. tests/unit/test_bench.py checks that the README's block is
what this makes of docs/bench/bench.json.
"""

import argparse
import json
import os
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402

BEGIN = "<!-- bench table: made by tests/bench/table.py --readme from the bench.json it names; edit that, not this -->"
END = "<!-- end of bench table -->"


def readme_block(report, name):
    """The README's text for a run's report (a bench.json's data); `name`: the
    file's path as a link from the README."""
    meta = report["meta"]
    text = f"The run quoted, [`{name}`]({name}): `{meta['command']}`; {benchlib.describe_run(meta)}."
    if meta.get("reconstructed"):
        text += f" ({meta['reconstructed']})"
    prose = textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)
    return f"{prose}\n\n```\n{benchlib.format_table(report['rows'])}```\n"


def replace_block(text, block):
    """`text` with what stands between BEGIN and END replaced by `block`."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"the README needs one line {BEGIN!r} and, after it, one line {END!r}")
    head, rest = text.split(BEGIN + "\n", 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{block}{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bench_json", type=Path, help="a run's bench.json (the README quotes docs/bench/bench.json)")
    parser.add_argument("--readme", type=Path, metavar="README",
                        help="rewrite the table's block in this file instead of printing it")
    args = parser.parse_args(argv)
    report = json.loads(args.bench_json.read_text())
    if args.readme is None:
        print(readme_block(report, str(args.bench_json)), end="")
        return 0
    name = os.path.relpath(args.bench_json.resolve(), args.readme.resolve().parent)
    text = args.readme.read_text()
    try:
        args.readme.write_text(replace_block(text, readme_block(report, name)))
    except ValueError as e:
        print(f"table: {args.readme}: {e}", file=sys.stderr)
        return 1
    print(f"table: rewrote the bench table in {args.readme} from {args.bench_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
