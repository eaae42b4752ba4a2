"""A tensor entry whose load warns or raises anything at all is rebuilt with a CacheRebuildWarning, also when
warnings are errors (pytest.ini), instead of failing the test that asked for it."""
from __future__ import annotations

import io
import json
import warnings

import pytest
import torch

from claimcheck.store import CacheRebuildWarning, Store, _bytes_hash
from fixtures.cache import TensorCache

SPEC = {"kind": "test", "seed": 2, "scale": "smoke"}
TENSORS = {"w": torch.arange(6.0).reshape(2, 3)}


def build(counter: list):
    def make():
        counter.append(1)
        return dict(TENSORS), {"acc": 0.5}
    return make


def replace_payload(store: Store, payload: bytes) -> None:
    """Put `payload` in the entry with a matching hash: only decoding it can find it unusable."""
    payload_path, meta_path, _ = store.paths(SPEC)
    payload_path.write_bytes(payload)
    meta = json.loads(meta_path.read_text())
    meta["sha256"]["payload"] = _bytes_hash(payload)
    meta_path.write_text(json.dumps(meta))


def saved(**kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(TENSORS, buffer, **kwargs)
    return buffer.getvalue()


def get_as_in_the_suite(cache: TensorCache, built: list):
    """get_or_build under pytest.ini's filters: every warning an error except the rebuild notice."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("error")
        warnings.simplefilter("always", CacheRebuildWarning)
        entry = cache.get_or_build(SPEC, build(built))
    return entry, [str(w.message) for w in seen]


@pytest.mark.parametrize("payload, why", [
    (saved(pickle_protocol=3), "warned (UserWarning: Detected pickle protocol 3"),                 # loads, warns
    (saved(pickle_protocol=3, _use_new_zipfile_serialization=False), "warned (UserWarning"),
    (saved(pickle_protocol=4), "unreadable or not weights-only"),                                 # warns, fails
    (b"hello world this is text", "unreadable or not weights-only (KeyError)"),
    (b"", "unreadable or not weights-only (EOFError)"),
], ids=["protocol-3", "protocol-3-legacy-format", "protocol-4", "text", "empty"])
def test_an_entry_whose_load_warns_or_fails_is_rebuilt_with_the_rebuild_warning(tmp_path, payload, why):
    store, built = Store(tmp_path), []
    cache = TensorCache(store)
    cache.get_or_build(SPEC, build(built))
    replace_payload(store, payload)
    entry, seen = get_as_in_the_suite(cache, built)
    assert len(seen) == 1 and seen[0].startswith("rebuilding cache entry ") and why in seen[0], seen
    assert len(built) == 2 and not entry.loaded and torch.equal(entry.tensors["w"], TENSORS["w"])
    again, seen = get_as_in_the_suite(TensorCache(Store(tmp_path)), built)
    assert again.loaded and not seen and len(built) == 2, "the rebuilt entry loads without a warning"
