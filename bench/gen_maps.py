#!/usr/bin/env python3
"""gen_maps.py - deterministic synthetic Postfix map sources for benchmarks.

  gen_maps.py sender OUT [N]    N unique sender keys (5% @domain), relay values
  gen_maps.py mixed OUT [N]     10% non-ASCII keys, ~2% duplicates after
                                folding, ~5% continuation lines
  gen_maps.py keys MAP OUT [N]  N query keys, half present in MAP's source
  gen_maps.py sasl OUT [N]      a credential map with the sender map's keys
  gen_maps.py sender-changed OUT [N]  the sender map with ~1% changed

Fixed seeds: the same arguments always give the same bytes.
"""
import random
import sys

NON_ASCII = ["jürgen", "straße", "ΣΟΦΟΣ", "İstanbul", "ÄÖÜ", "søren",
             "françois", "ﬁle", "μαρία", "łukasz"]


def sender_key(rng, i):
    tenant = rng.randrange(10000)
    domain = rng.randrange(30)
    if rng.random() < 0.05:
        return f"@tenant{tenant}-{i}.example{domain}.com"
    return f"user{rng.randrange(10**9)}-{i}@tenant{tenant}.example{domain}.com"


def relay_value(rng):
    return f"[smtp{rng.randrange(64)}.relay.example.net]:587"


def gen_sender(out, n):
    rng = random.Random(1)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(f"{sender_key(rng, i)}\t{relay_value(rng)}\n")


def gen_sender_changed(out, n):
    """The sender map with about 1% of values changed, 0.4% of entries
    removed and 0.4% added: the "new" side of a diff benchmark."""
    rng = random.Random(1)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            key, value = sender_key(rng, i), relay_value(rng)
            if i % 250 == 1:
                continue
            if i % 100 == 0:
                value = "[changed%d.relay.example.net]:587" % (i % 7)
            f.write(f"{key}\t{value}\n")
            if i % 250 == 2:
                f.write(f"added{i}@new.example.org\t{value}\n")


def gen_mixed(out, n):
    rng = random.Random(2)
    keys = []
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            r = rng.random()
            if r < 0.02 and keys:
                key = rng.choice(keys[-1000:]).upper()  # duplicate after folding
            elif r < 0.12:
                word = rng.choice(NON_ASCII)
                key = f"{word}{i}@tenant{rng.randrange(10000)}.example.com"
            else:
                key = sender_key(rng, i)
            keys.append(key)
            value = relay_value(rng)
            if rng.random() < 0.05:
                f.write(f"{key}\t{value},\n    [backup{i % 7}.relay.example.net]:587\n")
            else:
                f.write(f"{key}\t{value}\n")


def gen_sasl(out, n):
    rng = random.Random(1)
    rng_val = random.Random(3)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            key = sender_key(rng, i)
            relay_value(rng)  # keep the key sequence identical to the sender map
            secret = "%040x" % rng_val.getrandbits(160)
            f.write(f"{key}\tAKIA{rng_val.randrange(10**12):012d}:{secret}\n")


def gen_keys(map_path, out, n):
    rng = random.Random(4)
    present = []
    with open(map_path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line[:1] in ("", " ", "\t", "#"):
                continue
            present.append(line.split(None, 1)[0])
    with open(out, "w", encoding="utf-8", errors="surrogateescape") as f:
        for i in range(n):
            if i % 2 == 0:
                f.write(rng.choice(present) + "\n")
            else:
                f.write(f"absent{rng.randrange(10**9)}@nowhere{i}.example.org\n")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    kind = argv[1]
    if kind == "keys":
        gen_keys(argv[2], argv[3], int(argv[4]) if len(argv) > 4 else 200000)
        return
    n = int(argv[3]) if len(argv) > 3 else 1000000
    {"sender": gen_sender, "sender-changed": gen_sender_changed,
     "mixed": gen_mixed, "sasl": gen_sasl}[kind](argv[2], n)


if __name__ == "__main__":
    main(sys.argv)
