#!/usr/bin/env python3
"""Compares the options mapctl(1) documents with those the CLI accepts.

    manpage_options.py MAPCTL MANPAGE

The CLI side is `mapctl --help`, whose "Subcommands:" list names every
subcommand, plus `mapctl query sender --help` (a hidden subcommand), and
`mapctl COMMAND --help` for each: the first column of its "Options:" list.
The man page side is its SYNOPSIS, one paragraph per ".B mapctl COMMAND"
line, and the tag line of every .TP entry. They must agree both ways:

  - the subcommands of the SYNOPSIS are exactly the CLI's;
  - each subcommand's SYNOPSIS names exactly the options it accepts
    (-h/--help aside, which every subcommand takes and COMMON OPTIONS
    describes once);
  - every option the CLI accepts has a .TP entry, and every .TP entry
    names an option the CLI accepts;
  - EXIT STATUS names every subcommand (as "COMMAND:").

groff, when installed, must also read the page without a warning.
Prints one line per disagreement and "N passed, M failed" last; exit 0
when all agree.
"""

import re
import shutil
import subprocess
import sys

HELP = {"-h", "--help"}


def run_help(mapctl, words):
    p = subprocess.run([mapctl] + words + ["--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        raise RuntimeError("mapctl %s --help: exit %d: %s" % (
            " ".join(words), p.returncode, p.stderr.decode(errors="replace")))
    return p.stdout.decode()


def help_sections(text):
    """{'Options': [first column, ...], 'Subcommands': [...]} of a CLI11 help."""
    sections, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^(\w[\w ]*):$", line)
        if m:
            current = sections.setdefault(m.group(1), [])
            continue
        m = re.match(r"^  (\S+)", line)
        if m and current is not None:
            current.append(m.group(1))
    return sections


def cli_options(help_text):
    names = set()
    for first in help_sections(help_text).get("Options", []):
        names.update(n for n in first.split(",") if n.startswith("-"))
    return names


def plain(roff):
    """Roff source to text: font escapes dropped, \\- as '-'."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", roff)
    text = text.replace("\\-", "-").replace("\\(em", "--")
    return re.sub(r"\\.", "", text)


def options_in(text):
    names = set(re.findall(r"(?<![\w-])--[A-Za-z][\w-]*", text))
    for cluster in re.findall(r"(?<![\w-])-([A-Za-z]+)(?![\w-])", text):
        names.update("-" + c for c in cluster)  # [-fNnuUv] is six flags
    return names


def parse_manpage(path):
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith('.\\"')]
    sections, name = {}, None
    for line in lines:
        if line.startswith(".SH "):
            name = plain(line[4:]).strip().strip('"')
            sections[name] = []
        elif name is not None:
            sections[name].append(line)

    synopsis = {}  # command ("" for mapctl alone) -> set of options
    command = None
    for line in sections.get("SYNOPSIS", []):
        if line.startswith(".B mapctl"):
            words = plain(line[len(".B mapctl"):]).split()
            cmd = []
            for w in words:
                if w.startswith("-"):
                    break
                cmd.append(w)
            command = " ".join(cmd)
            synopsis.setdefault(command, set()).update(
                options_in(" ".join(words[len(cmd):])))
        elif command is not None and not line.startswith(".br"):
            synopsis[command].update(options_in(plain(line)))

    described = set()
    for i, line in enumerate(lines):
        if line.strip() == ".TP" and i + 1 < len(lines):
            described.update(options_in(plain(lines[i + 1])))
    exit_text = plain("\n".join(sections.get("EXIT STATUS", [])))
    return synopsis, described, exit_text


def main(argv):
    if len(argv) != 3:
        print("usage: manpage_options.py MAPCTL MANPAGE")
        return 2
    mapctl, manpage = argv[1], argv[2]
    problems, checks = [], 0

    top = run_help(mapctl, [])
    commands = help_sections(top).get("Subcommands", [])
    if not commands:
        problems.append("mapctl --help lists no subcommands")
    commands.append("query sender")  # hidden from the list: query's word
    cli = {"": cli_options(top)}
    for c in commands:
        cli[c] = cli_options(run_help(mapctl, c.split())) - HELP

    synopsis, described, exit_text = parse_manpage(manpage)

    checks += 1
    for c in sorted(set(cli) - set(synopsis)):
        problems.append("SYNOPSIS lacks the subcommand %r" % (c or "mapctl"))
    for c in sorted(set(synopsis) - set(cli)):
        problems.append("SYNOPSIS names %r, which mapctl --help does not" % c)

    for c in sorted(set(cli) & set(synopsis)):
        checks += 1
        documented = synopsis[c] - (HELP if c else set())
        label = "mapctl " + c if c else "mapctl"
        for o in sorted(cli[c] - documented):
            problems.append("%s accepts %s; its SYNOPSIS does not name it" % (label, o))
        for o in sorted(documented - cli[c]):
            problems.append("the SYNOPSIS of %s names %s, which it does not accept" % (label, o))

    checks += 1
    accepted = set().union(*cli.values()) | HELP
    for o in sorted(accepted - described):
        problems.append("no .TP entry describes %s" % o)
    for o in sorted(described - accepted):
        problems.append("a .TP entry describes %s, which no subcommand accepts" % o)

    checks += 1
    for c in commands:
        if not re.search(r"(?<![\w-])%s:" % re.escape(c), exit_text):
            problems.append("EXIT STATUS does not mention %s" % c)

    groff = shutil.which("groff")
    if groff:
        checks += 1
        p = subprocess.run([groff, "-man", "-ww", "-z", manpage],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for line in p.stderr.decode(errors="replace").splitlines():
            problems.append("groff: " + line)

    for pr in problems:
        print("FAIL " + pr)
    print("%d subcommands and %d comparisons: %d disagreement(s)" % (
        len(commands), checks, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
