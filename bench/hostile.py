#!/usr/bin/env python3
"""The worst requests we can build, against a running server on the generated world plus a
profile with 5,000 pins: for each, the server's peak memory above idle and its CPU time for that
one request, then how the other clients' p99 moves while an attacker sends it over and over.

usage:
  hostile.py pinner FILE                write the 5,000-pin profile (and the attacker) as JSON Lines
  hostile.py run BIN DATABASE_URL SERVER_URL PID OUT_DIR
            measures every request against the server (process PID) and writes OUT_DIR/hostile.txt;
            OUT_DIR/profile.txt (from prepare.py) is the other clients' load
settings (environment): LOAD_SECONDS (8), CONNECTIONS (32), REPEAT (3), CASES (all; or names, comma-separated)
"""
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse

import world

PINS = 5_000
# The generated user who attacks: one the other clients' load (bench/prepare.py) never signs in as,
# so that the attacker's own line of turns is theirs alone, as an attacker's account would be.
ATTACKER = "user00050"
TEXT = "長" * 1_990  # the longest text input allows, in bytes (6 KB)


def pinner(path):
    """`pinner` with 5,000 pinned moments, each with the longest text and nine of the longest
    URLs input allows; `mallory` is her friend and the attacker."""
    day = 86_400
    now = int(time.time())
    with open(path, "w") as f:
        for handle in ("pinner", "mallory"):
            f.write(json.dumps({"type": "user", "handle": handle, "displayName": handle.title()}) + "\n")
        f.write(json.dumps({"type": "friendship", "users": ["pinner", "mallory"]}) + "\n")
        f.write(json.dumps({"type": "settings", "user": "pinner", "visibleWindow": "ALL"}) + "\n")
        for i in range(PINS):
            posted = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - day - i * 3_600))
            images = [{"url": f"https://img.example/{'a' * 2_000}/{i}/{k}.jpg", "width": 4000, "height": 3000}
                      for k in range(9)]
            f.write(json.dumps({"type": "moment", "ref": f"p{i}", "author": "pinner", "text": f"{i} {TEXT}",
                                "images": images, "postedAt": posted}) + "\n")
        for i in range(PINS):
            f.write(json.dumps({"type": "pin", "moment": f"p{i}"}) + "\n")


# --- the requests --------------------------------------------------------------------------------

def aliases(n, field):
    return " ".join(f"a{i}: {field}" for i in range(n))


def fragment_bomb(levels):
    frags = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels))
    return "{ ...F0 }\n" + frags + f"fragment F{levels} on Query {{ __typename }}\n"


INTROSPECTION = """query IntrospectionQuery { __schema { queryType { name } mutationType { name }
  subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
  args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue }
  interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name } } } } } } } }"""


def requests(ids, users):
    """(name, what it is, token name, JSON body) for every hostile request; `users` is the generated
    world's number of users."""
    pinned = '{ profile(handle: "pinner") { ' + aliases(16, "pinned { text media { url } }") + " } }"
    timeline = '{ profile(handle: "pinner") { ' + aliases(15, "timeline(first: 100) { nodes { text media { url } } }") + " } }"
    feed = "{ " + aliases(13, "feed(first: 100) { nodes { text media { url } author { handle } } }") + " }"
    nested = ('{ profile(handle: "pinner") { pinned(first: 40) { author { profile { pinned(first: 40) { text } } } } } }')
    profiles = "{ " + " ".join(f'a{i}: profile(handle: "user{(i * 7) % users:05d}") {{ pinLimit }}' for i in range(198)) + " }"
    moments = "{ " + " ".join(f'a{i}: moment(id: "{m}") {{ text }}' for i, m in enumerate(ids[:198])) + " }"
    sign_in = 'signIn(input: { handle: "pinner", password: "not the password" }) { token }'
    sign_ins = "mutation { " + aliases(39, sign_in) + " }"
    typenames = "{ " + aliases(17_000, "__typename") + " }"
    variables = {f"v{i}": "x" * 20 for i in range(9_000)}
    single = lambda q, v=None: {"query": q, "variables": v or {}}
    return [
        ("pinned-aliases", "16 aliases of the 100-moment pinned block of the 5,000-pin profile, text and media",
         "mallory", single(pinned)),
        ("pinned-batch", "the same, ten times in one batch", "mallory", [single(pinned)] * 10),
        ("timeline-aliases", "15 aliases of timeline(first: 100) on the same profile", "mallory", single(timeline)),
        ("feed-aliases", "13 aliases of feed(first: 100) of a generated user (50 friends by default)", "user", single(feed)),
        ("nested-pinned", "the pinned block, and each moment's author's pinned block again (40 x 40)",
         "mallory", single(nested)),
        ("profile-aliases", "198 aliases of profile(handle:), one statement each", "user", single(profiles)),
        ("moment-aliases", "198 aliases of moment(id:), one statement each", "user", single(moments)),
        ("sign-in-aliases", "39 aliased signIn with a wrong password, no token", None, single(sign_ins)),
        ("sign-in-batch", "the same, ten times in one batch", None, [single(sign_ins)] * 10),
        ("fragment-bomb", "40 fragments, each spreading the next twice (2^40 fields)", None, single(fragment_bomb(40))),
        ("introspection-batch", "GraphiQL's introspection query, ten times in one batch", None,
         [single(INTROSPECTION)] * 10),
        ("typename-flood", "17,000 aliased __typename (a body near 256 KiB)", None, single(typenames)),
        ("parse-flood", "9,998 one-letter fields, the most tokens a query that is parsed may hold", None,
         single("{ " + "a " * 9_998 + "}")),
        ("token-flood", "32,700 one-letter fields in 64 KiB, refused by their count before they are parsed", None,
         single("{ " + "a " * 32_700 + "}")),
        ("text-flood", "125,000 one-letter fields in a query of 250 KB, refused by its size before it is parsed", None,
         single("{ " + "a " * 125_000 + "}")),
        ("big-variables", "9,000 unused variables (a body near 256 KiB)", "user",
         single("query { viewer { handle } }", variables)),
    ]


# --- measuring -----------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise KeyError(field)


def post(server, body, token=None):
    """POSTs `body` (bytes as they are, anything else as JSON) and returns the status and the answer."""
    url = urllib.parse.urlparse(server)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request("POST", "/graphql", body=body if isinstance(body, bytes) else json.dumps(body).encode(),
                 headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def codes(data):
    try:
        answer = json.loads(data)
    except ValueError:
        return "not JSON"
    found = {}
    for one in answer if isinstance(answer, list) else [answer]:
        for error in one.get("errors") or []:
            code = (error.get("extensions") or {}).get("code", "?")
            found[code] = found.get(code, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(found.items())) or "none"


def wrk(server, out, seconds, connections):
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", "bench/graphql.lua", server, "--",
         f"{out}/profile.txt"], check=True, capture_output=True, text=True).stdout
    line = next(l for l in result.splitlines() if l.startswith("RESULT"))
    return dict(kv.split("=") for kv in line.split()[1:])


# --- the WebSocket cases (bench/hostile-live.mjs) ---------------------------------------------------

LIVE = [
    ("ws-socket-flood", "400 sockets from one address: half never sign in, half as one of 50 users", 400),
    ("ws-operation-flood", "one user's 8 sockets x 20 operations, each the pinned-aliases query", 160),
    ("http-flood", "the same 160 queries over HTTP, 64 at a time (one address's connections)", 160),
    ("ws-subscription-flood", "one user's 8 sockets x 20 subscriptions near the complexity limit and one of "
     "190 root fields, then a post they all watch", 161),
    ("ws-id-churn", "one socket reusing ids 1,000 times (a query, completed as it answers, then a "
     "subscription), 20 at a time", 2_000),
]


def live_case(name, server, tokens_file, loop=False):
    """Runs one WebSocket case: its result, or (looping) the process to stop."""
    command = ["node", "bench/hostile-live.mjs", name.removeprefix("ws-"), server, tokens_file]
    if loop:
        return subprocess.Popen(command + ["loop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout)


def timing(binary, env, server, samples=2_000):
    """moment(id) for a large moment the viewer may not see, a small one, and an id that does not exist."""
    token = lambda h: subprocess.run([binary, "token", h], env=env, check=True, capture_output=True,
                                     text=True).stdout.strip()
    viewer, author, pinner = token("user00017"), token("user00018"), token("pinner")
    nodes = json.loads(post(server, {"query": '{ profile(handle: "user00018") { timeline(first: 100) '
                                              '{ nodes { id audience { mode } } } } }'}, author)[1])
    nodes = nodes["data"]["profile"]["timeline"]["nodes"]
    small = next(n["id"] for n in nodes if n["audience"]["mode"] == "PRIVATE")
    # pinner's moments are as large as input allows (24 KB), and she shows strangers nothing.
    large = json.loads(post(server, {"query": '{ profile(handle: "pinner") { pinned(first: 1) { id } } }'},
                            pinner)[1])["data"]["profile"]["pinned"][0]["id"]
    import base64
    missing = base64.urlsafe_b64encode(b"Moment:987654321").decode().rstrip("=")
    query = "query($id: ID!) { moment(id: $id) { id } }"
    url = urllib.parse.urlparse(server)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    cases = [("invisible and large", large), ("invisible and small", small), ("missing", missing)]
    times = {which: [] for which, _ in cases}
    for i in range(len(cases) * samples):
        which, moment = cases[i % len(cases)]
        body = json.dumps({"query": query, "variables": {"id": moment}}).encode()
        t0 = time.perf_counter()
        conn.request("POST", "/graphql", body=body,
                     headers={"Content-Type": "application/json", "Authorization": "Bearer " + viewer})
        answer = conn.getresponse().read()
        times[which].append((time.perf_counter() - t0) * 1e6)
        assert answer == b'{"data":{"moment":null}}', answer
    conn.close()
    stats = []
    for which, values in times.items():
        values.sort()
        stats.append(f"{which} median {values[len(values) // 2]:.0f} µs (p90 {values[len(values) * 9 // 10]:.0f} µs)")
    return (f"Timing: `moment(id)` answered `null` {samples} times each, alternating, on one connection: "
            + "; ".join(stats) + ".")


def measure(pid, repeat, send):
    """Sends once to warm the server's caches (what is measured is the request, not the database's
    cache filling up), then `repeat` times measured: the worst peak RSS above idle, CPU and wall
    time, and what the last one answered."""
    worst = {"peak": 0, "cpu": 0.0, "wall": 0.0}
    answer = send()
    for _ in range(repeat):
        time.sleep(0.3)
        idle = status_kib(pid, "VmRSS:")
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        cpu0, t0 = cpu_seconds(pid), time.time()
        answer = send()
        wall = time.time() - t0
        time.sleep(0.2)  # let the server finish whatever follows the answer
        cpu = cpu_seconds(pid) - cpu0
        peak = status_kib(pid, "VmHWM:") - idle
        worst = {"peak": max(worst["peak"], peak), "cpu": max(worst["cpu"], cpu), "wall": max(worst["wall"], wall)}
    return worst, answer


def run(binary, database_url, server, pid, out):
    pid = int(pid)
    seconds = int(os.environ.get("LOAD_SECONDS", "8"))
    connections = int(os.environ.get("CONNECTIONS", "32"))
    repeat = int(os.environ.get("REPEAT", "3"))
    env = {"DATABASE_URL": database_url, "RUST_LOG": "error"}
    tokens = {name: subprocess.run([binary, "token", handle], env=env, check=True, capture_output=True,
                                   text=True).stdout.strip()
              for name, handle in (("mallory", "mallory"), ("user", ATTACKER))}
    status, data = post(server, {"query": '{ profile(handle: "%s") { timeline(first: 100) { nodes { id } } } }' % ATTACKER},
                        tokens["user"])
    ids = [n["id"] for n in json.loads(data)["data"]["profile"]["timeline"]["nodes"]]
    ids = (ids * 2)[:198]
    tokens_file = f"{out}/tokens.json"
    with open(tokens_file, "w") as f:
        make = lambda h: subprocess.run([binary, "token", h], env=env, check=True, capture_output=True,
                                        text=True).stdout.strip()
        json.dump({"mallory": tokens["mallory"], "pinner": make("pinner"),
                   "users": [make(f"user{i:05d}") for i in range(50)]}, f)
    lines = []
    say = lambda text: (print(text, flush=True), lines.append(text))
    say("| request | what it is | status | errors | answer | peak RSS above idle | CPU | wall |")
    say("| --- | --- | --- | --- | --- | --- | --- | --- |")
    hostile = requests(ids, world.shape(binary)["users"])
    live = LIVE
    chosen = os.environ.get("CASES")
    if chosen:
        names = set(chosen.split(","))
        hostile = [case for case in hostile if case[0] in names]
        live = [case for case in LIVE if case[0] in names]
    for name, what, token_name, body in hostile:
        worst, (status, data) = measure(pid, repeat, lambda: post(server, body, tokens.get(token_name)))
        say(f"| {name} | {what} | {status} | {codes(data)} | {len(data) / 1024:,.0f} KiB | "
            f"{worst['peak'] / 1024:.1f} MiB | {worst['cpu']:.2f} s | {worst['wall']:.2f} s |")
    for name, what, operations in live:
        worst, result = measure(pid, repeat, lambda: live_case(name, server, tokens_file))
        held = ", ".join(f"{k} {json.dumps(v, separators=(',', ':'))}" for k, v in result.items())
        say(f"| {name} | {what} | - | {held} | - | {worst['peak'] / 1024:.1f} MiB | "
            f"{worst['cpu']:.2f} s ({worst['cpu'] / operations * 1000:.1f} ms each of {operations}) | {worst['wall']:.2f} s |")

    say("")
    say(timing(binary, env, server))
    say("")
    say(f"Other clients: the profile page at {connections} connections for {seconds} s, alone and while one "
        "attacker sends the request over and over on one connection.")
    say("")
    say("| while | profile req/s | profile p99 | p99 / alone | attacker's requests |")
    say("| --- | --- | --- | --- | --- |")
    wrk(server, out, 3, connections)  # warm-up
    alone = wrk(server, out, seconds, connections)
    say(f"| nothing else | {alone['rps']} | {alone['p99_ms']} ms | 1.00 | - |")
    for name, what, token_name, body in hostile:
        body = json.dumps(body).encode()  # once: the attacker's own work should not load the machine
        stop = threading.Event()
        sent = [0]

        def attack():
            while not stop.is_set():
                post(server, body, tokens.get(token_name))
                sent[0] += 1

        attacker = threading.Thread(target=attack)
        attacker.start()
        loaded = wrk(server, out, seconds, connections)
        stop.set()
        attacker.join()
        ratio = float(loaded["p99_ms"]) / float(alone["p99_ms"])
        say(f"| {name} | {loaded['rps']} | {loaded['p99_ms']} ms | {ratio:.2f} | {sent[0]} |")
    for name, what, operations in live:
        attacker = live_case(name, server, tokens_file, loop=True)
        time.sleep(1)
        loaded = wrk(server, out, seconds, connections)
        attacker.terminate()
        attacker.wait()
        ratio = float(loaded["p99_ms"]) / float(alone["p99_ms"])
        say(f"| {name} | {loaded['rps']} | {loaded['p99_ms']} ms | {ratio:.2f} | (looping) |")
    with open(f"{out}/hostile.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "pinner":
        pinner(sys.argv[2])
    elif sys.argv[1] == "run":
        run(*sys.argv[2:7])
    else:
        sys.exit(__doc__)
