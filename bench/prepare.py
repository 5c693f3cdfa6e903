#!/usr/bin/env python3
"""Writes the request files the wrk runs replay, against a running server on a generated world.

usage: prepare.py MOMENTS_BINARY DATABASE_URL SERVER_URL OUT_DIR
"""
import json
import subprocess
import sys
import urllib.request

import world

moments, database_url, server, out = sys.argv[1:5]
SHAPE = world.shape(moments)
USERS, HALF = SHAPE["users"], SHAPE["friends"] // 2  # the generated world: friends on either side on a ring
AUTHORS = [17 + 97 * k for k in range(20)]  # twenty profiles spread over the world


def handle(i):
    return f"user{i % USERS:05d}"


tokens = {}


def token(i):
    h = handle(i)
    if h not in tokens:
        tokens[h] = subprocess.run(
            [moments, "token", h], env={"DATABASE_URL": database_url, "RUST_LOG": "error"},
            check=True, capture_output=True, text=True).stdout.strip()
    return tokens[h]


def gql(tok, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(server + "/graphql", data=body, headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + tok})
    answer = json.load(urllib.request.urlopen(req))
    assert "errors" not in answer, answer
    return answer["data"]


def line(tok, query, variables=None):
    return tok + "\t" + json.dumps({"query": query, "variables": variables or {}})


def write(name, lines):
    with open(f"{out}/{name}.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


PROFILE = """query Profile($h: String!) { profile(handle: $h) {
  user { handle displayName }
  pinned { id text postedAt media { url width height } author { handle displayName } }
  timeline(first: 20) { edges { cursor node { id text kind postedAt isPinned
    media { url width height } author { handle displayName } } } pageInfo { hasNextPage endCursor } } } }"""
FEED = """query Feed($a: String) { feed(first: 20, after: $a) { nodes { id text postedAt isPinned
  author { handle displayName } media { url } } pageInfo { hasNextPage endCursor } } }"""
TIMELINE = """query Page($h: String!, $a: String) { profile(handle: $h) { timeline(first: 2, after: $a) {
  nodes { id text postedAt media { url } } pageInfo { hasNextPage endCursor } } } }"""

write("floor", ["\t" + json.dumps({"query": "{ __typename }"})])

profile = []
for a in AUTHORS:
    for viewer in (a, a + 1, a - HALF, a + USERS // 2):  # the owner, two friends, a stranger
        profile.append(line(token(viewer), PROFILE, {"h": handle(a)}))
write("profile", profile)

write("feed", [line(token(a + d), FEED) for a in AUTHORS for d in (0, 3)])

pins = []
for a in AUTHORS:
    tok = token(a)
    nodes = gql(tok, "query($h: String!) { profile(handle: $h) { timeline(first: 100) { nodes { id viewerCanPin } } } }",
                {"h": handle(a)})["profile"]["timeline"]["nodes"]
    pinnable = [n["id"] for n in nodes if n["viewerCanPin"]]
    if pinnable:
        for verb in ("pin", "unpin"):
            pins.append(line(tok, f"mutation($id: ID!) {{ {verb}(momentId: $id) {{ moment {{ id isPinned }} }} }}",
                             {"id": pinnable[0]}))
write("pin", pins)


def walk(tok, query, variables, pages, path):
    after = None
    for _ in range(pages - 1):
        data = gql(tok, query, dict(variables, a=after))
        for key in path:
            data = data[key]
        after = data["pageInfo"]["endCursor"]
    return after


owner = AUTHORS[0]
tok = token(owner)
write("timeline-page-1", [line(tok, TIMELINE, {"h": handle(owner), "a": None})])
write("timeline-page-100", [line(tok, TIMELINE, {"h": handle(owner), "a": walk(tok, TIMELINE, {"h": handle(owner)}, 100, ["profile", "timeline"])})])
write("feed-page-1", [line(tok, FEED, {"a": None})])
write("feed-page-100", [line(tok, FEED, {"a": walk(tok, FEED, {}, 100, ["feed"])})])
print(f"prepared {len(profile)} profile views, {len(pins)} pin requests, {len(tokens)} tokens")
