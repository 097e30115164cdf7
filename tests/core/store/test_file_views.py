"""Views of opened files: built once per file content, reused, never half-built, removable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from auditviewer.core.errors import ImportCancelled, ImportRejected
from auditviewer.core.records import CancelToken, Progress
from auditviewer.core.store import file_views
from auditviewer.core.store.connection import Store
from auditviewer.core.store.file_views import BUILDING_PREFIX, ViewCache, view_key
from tests.conftest import make_entry, write_json


def _entry_count(path: Path) -> int:
    with Store.open(path, create=False) as store, store.raw() as connection:
        return int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])


def _folder_names(folder: Path) -> list[str]:
    return sorted(item.name for item in folder.iterdir())


def test_a_view_is_a_read_only_store_named_by_the_file_hash(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(n) for n in range(1, 6)])
    cache = ViewCache(tmp_path / "views")
    view = cache.open_view([export])
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    assert view.path == tmp_path / "views" / f"{digest}.sqlite"
    assert not view.reused
    assert [report.imported for report in view.reports] == [5]
    assert _entry_count(view.path) == 5
    assert _folder_names(tmp_path / "views") == [view.path.name]
    with Store.open(view.path, create=False) as store:
        assert store.read_only


def test_the_same_file_reopens_its_view_without_importing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(n) for n in range(1, 4)])
    cache = ViewCache(tmp_path / "views")
    first = cache.open_view([export])
    before = first.path.read_bytes()
    imports: list[Path] = []
    monkeypatch.setattr(file_views, "import_file", lambda *a, **k: imports.append(a[1]))
    again = cache.open_view([tmp_path / "export.json"])
    assert again.reused
    assert again.path == first.path
    assert imports == []
    assert first.path.read_bytes() == before


def test_changed_content_gets_a_view_of_its_own(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(1)])
    cache = ViewCache(tmp_path / "views")
    first = cache.open_view([export])
    write_json(export, [make_entry(1), make_entry(2)])
    second = cache.open_view([export])
    assert second.path != first.path
    assert not second.reused
    assert _entry_count(second.path) == 2


def test_several_files_make_one_view_whatever_their_order(tmp_path: Path) -> None:
    one = write_json(tmp_path / "one.json", [make_entry(1), make_entry(2)])
    two = write_json(tmp_path / "two.json", [make_entry(3)])
    cache = ViewCache(tmp_path / "views")
    view = cache.open_view([one, two])
    assert _entry_count(view.path) == 3
    assert cache.open_view([two, one]).reused
    hashes = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (one, two)]
    assert view.path.name == f"{view_key(hashes)}.sqlite"


def test_a_rejected_file_leaves_no_view(tmp_path: Path) -> None:
    good = write_json(tmp_path / "good.json", [make_entry(1)])
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": 1,', encoding="utf-8")
    cache = ViewCache(tmp_path / "views")
    with pytest.raises(ImportRejected, match=r"bad\.json"):
        cache.open_view([good, bad])
    assert _folder_names(tmp_path / "views") == []


def test_a_cancelled_build_is_never_reused(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(n) for n in range(1, 50)])
    cache = ViewCache(tmp_path / "views")
    token = CancelToken()

    def cancel_on_progress(_file: Path, _step: Progress) -> None:
        token.cancel()

    with pytest.raises(ImportCancelled):
        cache.open_view([export], progress=cancel_on_progress, cancel=token)
    assert _folder_names(tmp_path / "views") == []
    assert not cache.open_view([export]).reused


def test_an_unfinished_build_left_behind_is_not_a_view(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(1)])
    folder = tmp_path / "views"
    folder.mkdir()
    digest = hashlib.sha256(export.read_bytes()).hexdigest()
    leftover = folder / f"{BUILDING_PREFIX}{digest}.sqlite"
    leftover.write_bytes(b"half")
    cache = ViewCache(folder)
    assert cache.views() == []
    assert cache.find([export]) is None
    assert not cache.open_view([export]).reused


def test_a_kept_view_that_no_longer_opens_is_rebuilt(tmp_path: Path) -> None:
    export = write_json(tmp_path / "export.json", [make_entry(1), make_entry(2)])
    cache = ViewCache(tmp_path / "views")
    view = cache.open_view([export])
    view.path.chmod(0o644)
    view.path.write_bytes(b"not a store")
    rebuilt = cache.open_view([export])
    assert not rebuilt.reused
    assert _entry_count(rebuilt.path) == 2


def test_remove_deletes_views_but_the_one_kept(tmp_path: Path) -> None:
    one = write_json(tmp_path / "one.json", [make_entry(1)])
    two = write_json(tmp_path / "two.json", [make_entry(2)])
    cache = ViewCache(tmp_path / "views")
    kept = cache.open_view([one]).path
    gone = cache.open_view([two]).path
    (tmp_path / "views" / f"{BUILDING_PREFIX}x.sqlite").write_bytes(b"half")
    assert {view.path for view in cache.views()} == {kept, gone}
    freed = cache.remove(keep=kept)
    assert freed > 0
    assert _folder_names(tmp_path / "views") == [kept.name]
    assert cache.remove() > 0
    assert cache.views() == []
    assert one.exists()
    assert two.exists()


def test_a_missing_cache_folder_holds_no_views(tmp_path: Path) -> None:
    cache = ViewCache(tmp_path / "nowhere")
    assert cache.views() == []
    assert cache.remove() == 0
