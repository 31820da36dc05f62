"""``ocds_packages.content_digest`` hashes a record package's text with the build folder replaced from one copy of the
whole text (benchmarks/RESULTS.md, wave 14 E2): the digest must stay the one its definition gives — the items' text
(after the envelope line) with every link to the build replaced by the neutral folder — since releases compare their
packages by the digests earlier builds recorded (release_metadata.content_digest)."""
from __future__ import annotations

import hashlib
import json

import pytest

from dagster_project.publish.ocds_packages import BUILD_MARK, _package_head, content_digest


def _by_definition(head: str, text: bytes, start: int, base_uri: str) -> str:
    """The digest as its docstring defines it, written plainly: the items sliced out, then the build replaced."""
    envelope = json.loads(head + "]}")
    envelope.pop("publishedDate", None)
    neutral = base_uri.rstrip("/").rsplit("/", 1)[0] + "/" + BUILD_MARK + "/"
    said = json.dumps(envelope, ensure_ascii=False, sort_keys=True).replace(base_uri, neutral)
    return hashlib.sha256(said.encode("utf-8") + b"\n"
                          + text[start:].replace(base_uri.encode("utf-8"), neutral.encode("utf-8"))).hexdigest()


@pytest.mark.parametrize("links", [0, 1, 3, 500])
@pytest.mark.parametrize("base", ["https://example.org/ocds/20261206T010101000Z/",
                                  "file:///tmp/发布/ocds/20261206T010101000Z/",  # non-ASCII: bytes, not characters
                                  "https://x/b/"])  # shorter than the mark: the items move left, not right
def test_record_package_digest_is_its_definition(links, base):
    envelope = {"uri": base, "version": "1.1", "publishedDate": "2026-12-06T01:01:01Z",
                "packages": [base + "release-package-0001.json", base + "release-package-0002.json"]}
    head = _package_head(envelope, "record-package-0001.json", "records")
    items = ",\n".join(json.dumps({"ocid": f"ocds-{i}", "compiledRelease": {"title": "办公楼维修改造工程"},
                                   "releases": [{"url": f"{base}release-package-0001.json#r{i}"}] if i < links else []},
                                  ensure_ascii=False) for i in range(max(links, 2)))
    text = (head + "\n" + items + "\n]}\n").encode("utf-8")
    start = len(head.encode("utf-8")) + 1
    assert content_digest(head, text, start, base) == _by_definition(head, text, start, base)
    # a link in the items is content without its build: another build folder, the same digest
    other = base.replace("20261206T010101000Z", "20261207T020202000Z").replace("/b/", "/c/")
    moved_head = head.replace(base, other)
    moved = (moved_head + "\n" + items.replace(base, other) + "\n]}\n").encode("utf-8")
    assert content_digest(moved_head, moved, len(moved_head.encode("utf-8")) + 1, other) \
        == content_digest(head, text, start, base)
