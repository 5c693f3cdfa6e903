"""The shape of the generated world, read from `moments generate --help` so that its defaults are
written once, in the binary (`WorldShape::default`)."""
import os
import re
import subprocess


def shape(moments):
    """`{"users": 2000, "friends": 50, ...}`: each `moments generate` flag's default, or its value in
    the environment's `MOMENTS_WORLD`."""
    text = subprocess.run([moments, "generate", "--help"], check=True, capture_output=True, text=True).stdout
    found = {flag: int(value) for flag, value in re.findall(r"--(\w+) <\w+>[^\[]*\[default: (\d+)\]", text)}
    assert {"users", "friends"} <= found.keys(), text
    # A world generated with other flags (`MOMENTS_WORLD="--users 20000 --friends 100"`).
    found.update({flag: int(value) for flag, value in re.findall(r"--(\w+)\s+(\d+)", os.environ.get("MOMENTS_WORLD", ""))})
    return found
