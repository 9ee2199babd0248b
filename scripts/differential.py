#!/usr/bin/env python3
"""Differential check of qmp-codegen's front end against QEMU's own generator.

Writes random small schemas (valid ones and near misses), checks each with QEMU's
`scripts/qapi` of a release (from `scripts/qemu-sources`, in target/qemu-src/<release>)
and with `qmp-codegen check --dialect <release>`, and prints every schema where the
two disagree on acceptance or on the error's first line.

    cargo build --release -p qmp-codegen
    scripts/differential.py [--release 10.0] [--cases 2000] [--seed N] [--keep DIR]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each list: the usual choices, then unusual ones QEMU may refuse somewhere.
TYPES = (["Ee", "Ff", "Ss", "Tt", "Uu", "Aa", "int", "str", "bool", "number"],
         ["any", "null", "size", "uint8", "Nope", "q_empty", "QType"])
VALUES = (["a", "b", "c", "x-y"],
          ["on", "off", "1", "-x", "x_y", "Up", "d.e", "u", "has-x", "1x", "a-b"])
MEMBERS = (["a", "b", "c", "kind", "type", "x", "y", "a-b", "*a", "*b", "*x"],
           ["a_b", "u", "has-a", "data", "*kind", "Up", "q-x", "max"])
CONDS = (["'C1'", "{ 'not': 'C2' }", "{ 'all': [ 'C1', 'C2' ] }"],
         ["{ 'any': [] }", "{ 'all': [ 'C1' ] }", "''", "{ 'not': [] }", "[ 'C1' ]"])
FEATURES = (["'f1'", "{ 'name': 'f2', 'if': 'C1' }", "{ 'name': 'f3' }"],
            ["'f1', 'f1'", "'Bad_name'", "'deprecated'", "'unstable'"])

# How often an unusual choice is made (--unusual).
UNUSUAL = 0.25


def pick(r, xs):
    if isinstance(xs, tuple):
        usual, unusual = xs
        return r.choice(unusual if r.random() < UNUSUAL else usual)
    return r.choice(xs)


def sample(r, xs, k):
    usual, unusual = xs
    return r.sample(usual + (unusual if r.random() < UNUSUAL else []), k)


def type_ref(r):
    t = pick(r, TYPES)
    return f"[ '{t}' ]" if r.random() < 0.2 else f"'{t}'"


def member(r):
    t = type_ref(r)
    if r.random() < 0.25:
        extra = []
        if r.random() < 0.5:
            extra.append(f"'if': {pick(r, CONDS)}")
        if r.random() < 0.4:
            extra.append(f"'features': [ {pick(r, FEATURES)} ]")
        if r.random() < 0.05:
            extra.append("'default': 1")
        return "{ " + ", ".join([f"'type': {t}"] + extra) + " }"
    return t


def members(r, lo=0, hi=4):
    names = sample(r, MEMBERS, r.randint(lo, hi))
    return "{ " + ", ".join(f"'{n}': {member(r)}" for n in names) + " }"


def common(r):
    extra = []
    if r.random() < 0.15:
        extra.append(f"'if': {pick(r, CONDS)}")
    if r.random() < 0.15:
        extra.append(f"'features': [ {pick(r, FEATURES)} ]")
    return "".join(", " + e for e in extra)


def definition(r, name):
    kind = pick(r, ["enum", "struct", "union", "alternate", "command", "event"])
    if kind == "enum":
        vals = sample(r, VALUES, r.randint(0, 4))
        items = []
        for v in vals:
            if r.random() < 0.2:
                items.append(f"{{ 'name': '{v}', 'if': {pick(r, CONDS)} }}")
            else:
                items.append(f"'{v}'")
        prefix = ", 'prefix': 'P'" if r.random() < 0.1 else ""
        return f"{{ 'enum': '{name}', 'data': [ {', '.join(items)} ]{prefix}{common(r)} }}"
    if kind == "struct":
        base = f", 'base': '{pick(r, TYPES)}'" if r.random() < 0.3 else ""
        return f"{{ 'struct': '{name}'{base}, 'data': {members(r)}{common(r)} }}"
    if kind == "union":
        base = pick(r, [f"'{pick(r, TYPES)}'", members(r, 1, 3), "{ 'kind': 'Ee' }"])
        disc = pick(r, (["kind", "type", "a", "x"], ["nope", "b"]))
        vals = sample(r, VALUES, r.randint(1 if r.random() > UNUSUAL else 0, 3))
        br = ", ".join(
            f"'{v}': {type_ref(r) if r.random() > UNUSUAL else members(r)}" for v in vals)
        d = "" if r.random() < 0.05 else f", 'discriminator': '{disc}'"
        return f"{{ 'union': '{name}', 'base': {base}{d}, 'data': {{ {br} }}{common(r)} }}"
    if kind == "alternate":
        vals = sample(r, (["a", "b", "c", "d", "x-y"], ["Up", "d_e"]),
                      r.randint(1 if r.random() > UNUSUAL else 0, 3))
        br = ", ".join(f"'{v}': {type_ref(r)}" for v in vals)
        return f"{{ 'alternate': '{name}', 'data': {{ {br} }}{common(r)} }}"
    cname = name.lower() + pick(r, (["", "-x"], ["_y", "X"]))
    if kind == "command":
        parts = [f"'command': '{cname}'"]
        if r.random() < 0.6:
            parts.append(f"'data': {pick(r, [members(r), type_ref(r)])}")
        if r.random() < 0.5:
            parts.append(f"'returns': {type_ref(r)}")
        for flag in ["boxed", "gen", "success-response", "allow-oob", "allow-preconfig",
                     "coroutine"]:
            if r.random() < 0.07:
                parts.append(f"'{flag}': {pick(r, ['true', 'false'])}")
        return "{ " + ", ".join(parts) + common(r) + " }"
    ename = name.upper() + pick(r, (["", "_X"], ["-y", "x"]))
    parts = [f"'event': '{ename}'"]
    if r.random() < 0.6:
        parts.append(f"'data': {pick(r, [members(r), type_ref(r)])}")
    if r.random() < 0.1:
        parts.append("'boxed': true")
    return "{ " + ", ".join(parts) + common(r) + " }"


def schema(r):
    names = ["Ee", "Ff", "Ss", "Tt", "Uu", "Aa"]
    r.shuffle(names)
    defs = [definition(r, n) for n in names[: r.randint(1, 6)]]
    if r.random() < 0.1:
        defs.insert(0, "{ 'pragma': { 'member-name-exceptions': [ 'Ss' ] } }")
    if r.random() < 0.05:
        defs.insert(0, "{ 'pragma': { 'command-returns-exceptions': [ 'ss' ] } }")
    return "\n".join(defs) + "\n"


def qemu_check(qapi, path):
    try:
        qapi.schema.QAPISchema(path)
        return ""
    except qapi.error.QAPIError as e:
        return str(e)


def main():
    global UNUSUAL
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="10.0")
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", default=None)
    ap.add_argument("--unusual", type=float, default=UNUSUAL,
                    help="how often an unusual (often refused) choice is made")
    args = ap.parse_args()
    UNUSUAL = args.unusual
    scripts = os.path.join(ROOT, "target/qemu-src", args.release, "scripts")
    if not os.path.isdir(scripts):
        sys.exit(f"no QEMU {args.release} sources in {scripts}: run scripts/qemu-sources")
    sys.path.insert(0, scripts)
    import qapi.error  # noqa: E402
    import qapi.schema  # noqa: E402
    ours = os.path.join(ROOT, "target/release/qmp-codegen")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    r = random.Random(seed)
    print(f"seed {seed}, QEMU {args.release}, {args.cases} cases")
    out = args.keep or tempfile.mkdtemp(prefix="qapi-diff-")
    os.makedirs(out, exist_ok=True)
    bad = accepted = 0
    for i in range(args.cases):
        path = os.path.join(out, f"c{i}.json")
        with open(path, "w") as f:
            f.write(schema(r))
        theirs = qemu_check(qapi, path).splitlines()
        p = subprocess.run([ours, "check", "--dialect", args.release, path],
                           capture_output=True, text=True)
        mine = [] if p.returncode == 0 else [
            l for l in p.stderr.splitlines() if not l.startswith("(hint:")]
        accepted += not theirs
        # The line QEMU names, and the message.
        t_last = theirs[-1] if theirs else ""
        m_last = mine[-1] if mine else ""
        if t_last != m_last:
            bad += 1
            print(f"--- {path}\n{open(path).read()}QEMU: {t_last or 'ok'}\nours: {m_last or 'ok'}")
    print(f"{bad} differences in {args.cases} cases ({accepted} accepted by QEMU)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
