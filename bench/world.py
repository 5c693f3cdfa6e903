"""The shape of the generated world, read from `moments generate --help` so that its defaults are
written once, in the binary (`WorldShape::default`)."""
import re
import subprocess


def shape(moments):
    """`{"users": 2000, "friends": 50, ...}`: the default of each `moments generate` flag."""
    text = subprocess.run([moments, "generate", "--help"], check=True, capture_output=True, text=True).stdout
    found = {flag: int(value) for flag, value in re.findall(r"--(\w+) <\w+>[^\[]*\[default: (\d+)\]", text)}
    assert {"users", "friends"} <= found.keys(), text
    return found
