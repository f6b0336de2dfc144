"""The logical → physical shard map, the ShardSet router, and settings validation."""

from __future__ import annotations

import os
import stat
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twoorl.ids import EPOCH_MS, LOGICAL_SHARDS, compose, logical_shard_of
from twoorl.settings import SECRET_KEY_FILE, SettingsError, load_settings
from twoorl.storage.shards import ShardSet, physical_index_of_logical

# --- physical_index_of_logical ----------------------------------------------------------------


@pytest.mark.parametrize("physical", [1, 2, 3, 5, 8, 1000, LOGICAL_SHARDS])
def test_every_logical_shard_maps_to_a_valid_physical_index(physical: int) -> None:
    indexes = [physical_index_of_logical(i, physical) for i in range(LOGICAL_SHARDS)]
    assert all(0 <= p < physical for p in indexes)
    assert set(indexes) == set(range(physical))  # no physical shard is left empty


@pytest.mark.parametrize("physical", [1, 3, 8])
def test_mapping_is_monotonic(physical: int) -> None:
    indexes = [physical_index_of_logical(i, physical) for i in range(LOGICAL_SHARDS)]
    assert indexes == sorted(indexes)
    assert indexes[0] == 0
    assert indexes[-1] == physical - 1


@pytest.mark.parametrize("physical", [1, 3, 8])
def test_mapping_is_balanced_within_one(physical: int) -> None:
    counts = Counter(physical_index_of_logical(i, physical) for i in range(LOGICAL_SHARDS))
    assert len(counts) == physical
    assert sum(counts.values()) == LOGICAL_SHARDS
    assert max(counts.values()) - min(counts.values()) <= 1


@given(st.integers(min_value=1, max_value=LOGICAL_SHARDS))
def test_each_physical_shard_holds_a_contiguous_range(physical: int) -> None:
    indexes = [physical_index_of_logical(i, physical) for i in range(LOGICAL_SHARDS)]
    # Monotonic and stepping by at most one: every physical shard is one contiguous run.
    assert all(0 <= b - a <= 1 for a, b in pairwise(indexes))
    assert indexes[0] == 0
    assert indexes[-1] == physical - 1


def test_known_boundaries_with_three_shards() -> None:
    assert [physical_index_of_logical(i, 3) for i in (0, 341, 342, 682, 683, 1023)] == [
        0,
        0,
        1,
        1,
        2,
        2,
    ]


def test_one_physical_shard_takes_everything() -> None:
    assert {physical_index_of_logical(i, 1) for i in range(LOGICAL_SHARDS)} == {0}


# --- ShardSet ---------------------------------------------------------------------------------


def _urls(tmp_path: Path, count: int) -> list[str]:
    return [f"sqlite+aiosqlite:///{tmp_path}/s{i}.db" for i in range(count)]


def _id_on(logical_shard: int, sequence: int = 0) -> int:
    return compose(EPOCH_MS + 1_000, logical_shard, sequence)


def test_shard_set_needs_a_url() -> None:
    with pytest.raises(ValueError, match="at least one shard"):
        ShardSet([])


async def test_shard_set_basics(tmp_path: Path) -> None:
    urls = _urls(tmp_path, 3)
    shards = ShardSet(urls)
    try:
        assert len(shards) == 3
        assert [s.index for s in shards.shards] == [0, 1, 2]
        assert [s.url for s in shards.shards] == urls
        assert shards.directory is shards.shards[0]
        assert all(s.is_sqlite for s in shards.shards)
        # Engines are lazy: nothing is created on disk until someone connects.
        assert not any((tmp_path / f"s{i}.db").exists() for i in range(3))
    finally:
        await shards.dispose()


@pytest.mark.parametrize("count", [1, 3, 8])
async def test_for_id_follows_the_logical_shard(tmp_path: Path, count: int) -> None:
    shards = ShardSet(_urls(tmp_path, count))
    try:
        for logical in range(LOGICAL_SHARDS):
            shard = shards.for_id(_id_on(logical, sequence=logical % 7))
            assert shard is shards.shards[physical_index_of_logical(logical, count)]
            assert shard is shards.for_logical(logical)
    finally:
        await shards.dispose()


async def test_for_id_with_three_shards(tmp_path: Path) -> None:
    shards = ShardSet(_urls(tmp_path, 3))
    try:
        assert shards.for_id(_id_on(0)).index == 0
        assert shards.for_id(_id_on(341)).index == 0
        assert shards.for_id(_id_on(342)).index == 1
        assert shards.for_id(_id_on(1023)).index == 2
    finally:
        await shards.dispose()


async def test_group_by_shard(tmp_path: Path) -> None:
    shards = ShardSet(_urls(tmp_path, 3))
    try:
        ids = [_id_on(1000), _id_on(5), _id_on(400), _id_on(6), _id_on(1000, 1)]
        groups = shards.group_by_shard(ids)
        assert groups == {
            shards.shards[2]: [_id_on(1000), _id_on(1000, 1)],
            shards.shards[0]: [_id_on(5), _id_on(6)],
            shards.shards[1]: [_id_on(400)],
        }
        assert shards.group_by_shard([]) == {}
        # Only shards that own something appear.
        assert list(shards.group_by_shard([_id_on(3)])) == [shards.shards[0]]
    finally:
        await shards.dispose()


async def test_group_by_shard_accepts_a_generator_and_keeps_every_id(tmp_path: Path) -> None:
    shards = ShardSet(_urls(tmp_path, 8))
    try:
        ids = [_id_on(i, i % 4) for i in range(0, LOGICAL_SHARDS, 3)]
        groups = shards.group_by_shard(iter(ids))
        assert sorted(x for xs in groups.values() for x in xs) == sorted(ids)
        for shard, members in groups.items():
            assert all(shards.for_id(x) is shard for x in members)
    finally:
        await shards.dispose()


@pytest.mark.parametrize("count", [1, 3, 8])
async def test_logical_shards_of_partitions_the_logical_space(tmp_path: Path, count: int) -> None:
    shards = ShardSet(_urls(tmp_path, count))
    try:
        ranges = [shards.logical_shards_of(s) for s in shards.shards]
        assert all(isinstance(r, range) and r.step == 1 and len(r) > 0 for r in ranges)
        # Consecutive, non-overlapping, and together they cover 0..1023.
        assert ranges[0].start == 0
        assert ranges[-1].stop == LOGICAL_SHARDS
        assert all(a.stop == b.start for a, b in pairwise(ranges))
        for shard, logical in zip(shards.shards, ranges, strict=True):
            assert all(shards.for_logical(i) is shard for i in logical)
    finally:
        await shards.dispose()


async def test_logical_shards_of_three(tmp_path: Path) -> None:
    shards = ShardSet(_urls(tmp_path, 3))
    try:
        assert [shards.logical_shards_of(s) for s in shards.shards] == [
            range(0, 342),
            range(342, 683),
            range(683, 1024),
        ]
    finally:
        await shards.dispose()


async def test_shards_are_real_sqlite_databases(tmp_path: Path) -> None:
    from sqlalchemy import text

    shards = ShardSet(_urls(tmp_path, 2))
    try:

        async def probe(shard, conn) -> tuple[int, str]:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            return shard.index, mode

        assert await shards.gather(probe) == [(0, "wal"), (1, "wal")]
        assert (tmp_path / "s0.db").exists()
        async with shards.shards[1].write() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (42)"))
        async with shards.shards[1].read() as conn:
            assert (await conn.execute(text("SELECT x FROM t"))).scalar_one() == 42
    finally:
        await shards.dispose()


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_logical_shard_of_any_id_is_in_range(snowflake: int) -> None:
    assert 0 <= logical_shard_of(snowflake) < LOGICAL_SHARDS


# --- settings ---------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("TWOORL_"):
            monkeypatch.delenv(key)


GOOD_KEY = "k" * 32


@pytest.mark.usefixtures("clean_env")
def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.max_post_length == 140
    assert settings.shards == []
    assert settings.shard_urls == [f"sqlite+aiosqlite:///{tmp_path.as_posix()}/s0.db"]


@pytest.mark.usefixtures("clean_env")
def test_shards_string_is_split_and_trimmed(tmp_path: Path) -> None:
    urls = _urls(tmp_path, 3)
    settings = load_settings(data_dir=tmp_path, shards=f" {urls[0]} ,{urls[1]},, {urls[2]} ")
    assert settings.shards == urls
    assert settings.shard_urls == urls


@pytest.mark.usefixtures("clean_env")
def test_shards_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls = [*_urls(tmp_path, 1), "postgresql+asyncpg://u@db/twoorl"]
    monkeypatch.setenv("TWOORL_SHARDS", ",".join(urls))
    monkeypatch.setenv("TWOORL_MAX_POST_LENGTH", "500")
    settings = load_settings(data_dir=tmp_path)
    assert settings.shards == urls
    assert settings.max_post_length == 500


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    ("overrides", "prefix", "detail"),
    [
        ({"shards": "not a url"}, "TWOORL_SHARDS: ", "is not a database URL"),
        ({"shards": "mysql://u@h/db"}, "TWOORL_SHARDS: ", "unsupported driver 'mysql'"),
        ({"shards": "sqlite:///x.db"}, "TWOORL_SHARDS: ", "unsupported driver 'sqlite'"),
        ({"shards": "postgresql://u@h/db"}, "TWOORL_SHARDS: ", "unsupported driver"),
        (
            {"shards": "sqlite+aiosqlite:///a.db,sqlite+aiosqlite:///a.db"},
            "TWOORL_SHARDS: ",
            "listed twice",
        ),
        ({"max_post_length": 0}, "TWOORL_MAX_POST_LENGTH: ", "greater than or equal to 1"),
        ({"max_post_length": 100_001}, "TWOORL_MAX_POST_LENGTH: ", "less than or equal"),
        ({"password_hash_profile": "nope"}, "TWOORL_PASSWORD_HASH_PROFILE: ", ""),
    ],
)
def test_bad_values_name_the_variable(
    tmp_path: Path, overrides: dict[str, object], prefix: str, detail: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir=tmp_path, **overrides)
    message = str(info.value)
    assert message.startswith(prefix)
    assert detail in message
    assert "Value error" not in message
    assert "\n" not in message


@pytest.mark.usefixtures("clean_env")
def test_bad_value_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOORL_MAX_POST_LENGTH", "0")
    with pytest.raises(SettingsError, match=r"^TWOORL_MAX_POST_LENGTH: "):
        load_settings(data_dir=tmp_path)


@pytest.mark.usefixtures("clean_env")
def test_data_dir_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "a" / "b"
    load_settings(data_dir=data_dir)
    assert data_dir.is_dir()


@pytest.mark.usefixtures("clean_env")
def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError, match=r"^TWOORL_DATA_DIR: cannot create"):
        load_settings(data_dir=blocker / "sub")


@pytest.mark.usefixtures("clean_env")
def test_secret_key_is_generated_persisted_and_reused(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path)
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.is_file()
    assert len(first.secret_key) >= 32
    assert key_file.read_text().strip() == first.secret_key
    second = load_settings(data_dir=tmp_path)
    assert second.secret_key == first.secret_key


@pytest.mark.usefixtures("clean_env")
def test_each_data_dir_gets_its_own_secret_key(tmp_path: Path) -> None:
    a = load_settings(data_dir=tmp_path / "a")
    b = load_settings(data_dir=tmp_path / "b")
    assert a.secret_key != b.secret_key


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.usefixtures("clean_env")
def test_secret_key_file_is_private(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        load_settings(data_dir=tmp_path)
    finally:
        os.umask(old_umask)
    mode = stat.S_IMODE((tmp_path / SECRET_KEY_FILE).stat().st_mode)
    assert mode & 0o077 == 0


@pytest.mark.usefixtures("clean_env")
def test_existing_secret_key_file_is_used(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("an-existing-key-from-an-earlier-run-0123456789\n")
    settings = load_settings(data_dir=tmp_path)
    assert settings.secret_key == "an-existing-key-from-an-earlier-run-0123456789"


@pytest.mark.usefixtures("clean_env")
def test_empty_secret_key_file_does_not_give_an_empty_key(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text("")
    try:
        settings = load_settings(data_dir=tmp_path)
    except SettingsError:
        return  # refusing to start is also acceptable
    assert len(settings.secret_key) >= 32


@pytest.mark.usefixtures("clean_env")
def test_explicit_secret_key_is_used_and_not_persisted(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key=GOOD_KEY)
    assert settings.secret_key == GOOD_KEY
    assert not (tmp_path / SECRET_KEY_FILE).exists()


@pytest.mark.usefixtures("clean_env")
def test_secret_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWOORL_SECRET_KEY", GOOD_KEY)
    assert load_settings(data_dir=tmp_path).secret_key == GOOD_KEY


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("key", ["x", "k" * 31])
def test_short_secret_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("TWOORL_SECRET_KEY", key)
    with pytest.raises(SettingsError, match=r"^TWOORL_SECRET_KEY: use at least 32 characters"):
        load_settings(data_dir=tmp_path)
    assert not (tmp_path / SECRET_KEY_FILE).exists()


@pytest.mark.usefixtures("clean_env")
def test_short_secret_key_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^TWOORL_SECRET_KEY: "):
        load_settings(data_dir=tmp_path, secret_key="short")
