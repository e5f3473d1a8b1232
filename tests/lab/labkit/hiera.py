"""The Hiera data labctl writes for the lab (its secrets), written and read
back line by line.

labctl alone writes this data (credentials.py), always in the shape these
functions give it: a top-level key at the start of a line, a hash's entries
indented by two spaces, values in single quotes, certificates as literal
blocks. Reading it back therefore needs no YAML library on the host machine.
The lab's hand-written Hiera (tests/lab/hiera) is Puppet's to read, not this
module's.
"""


def scalar(key, value):
    return f"{key}: '{value}'\n"


def hash_of(key, entries):
    return f"{key}:\n" + "".join(f"  {name}: '{value}'\n" for name, value in entries.items())


def list_of(key, items):
    return f"{key}:\n" + "".join(f"  - '{item}'\n" for item in items)


def literal(key, text):
    return f"{key}: |\n" + "".join(f"  {line}\n" for line in text.splitlines())


def has_key(text, key):
    """Whether `key` stands at the top level of `text`."""
    return any(line.startswith(f"{key}:") for line in text.splitlines())


def first_entry(text, key):
    """The value of the first entry of the hash at `key`, or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{key}:") and i + 1 < len(lines):
            return lines[i + 1].split(":", 1)[1].strip().strip("'")
    return None
