"""A loaded entry whose check warns is rebuilt with a CacheRebuildWarning, also where warnings are errors."""
from __future__ import annotations

import warnings

from claimcheck.store import CacheRebuildWarning, Store

SPEC = {"kind": "test", "n": 1}


def test_a_check_that_warns_makes_the_entry_unusable_even_when_warnings_are_errors(tmp_path):
    built = []

    def build():
        built.append(1)
        return b"payload", {}

    def warns(entry):
        warnings.warn("decoded with an old format", DeprecationWarning, stacklevel=1)

    Store(tmp_path).get_or_build(SPEC, build)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("error")
        warnings.simplefilter("always", CacheRebuildWarning)
        entry = Store(tmp_path).get_or_build(SPEC, build, validate=warns)
    assert not entry.loaded and len(built) == 2
    assert [str(w.message).split(": ", 1)[1] for w in seen] == [
        "loading it warned (DeprecationWarning: decoded with an old format)"]
    assert Store(tmp_path).get_or_build(SPEC, build).loaded, "a check without a warning loads it"
