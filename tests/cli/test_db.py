import sqlite3
from pathlib import Path

import pytest

from apiforge.bench.targets import free_port
from tests.cli.conftest import PRODUCTION_KEY, invoke


def _counts(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as conn:
        return (
            conn.execute("SELECT count(*) FROM categories").fetchone()[0],
            conn.execute("SELECT count(*) FROM products").fetchone()[0],
            conn.execute("SELECT count(*) FROM users").fetchone()[0],
        )


@pytest.mark.usefixtures("clean_env")
def test_upgrade_and_seed_twice_change_nothing_the_second_time(
    tmp_path: Path, sqlite_url: str
) -> None:
    env = {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
    outputs = []
    counts = []
    for _ in range(2):
        code, out, err = invoke(["db", "upgrade"], env)
        assert (code, err) == (0, "")
        code, out, err = invoke(["db", "seed", "--products", "200"], env)
        assert (code, err) == (0, "")
        outputs.append(out)
        counts.append(_counts(tmp_path / "cli.db"))
    assert counts == [(12, 200, 2), (12, 200, 2)]
    assert "12 new categories, 200 new products (200 in all), 2 new users" in outputs[0]
    assert "1 new organizations" in outputs[0]
    assert "0 new categories, 0 new products (200 in all), 0 new users" in outputs[1]
    assert "admin@example.com / apiforge-demo" in outputs[1]


@pytest.mark.usefixtures("clean_env")
def test_prune_deletes_expired_idempotency_keys_only(tmp_path: Path, sqlite_url: str) -> None:
    env = {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
    assert invoke(["db", "upgrade"], env)[0] == 0
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        conn.executemany(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, state, owner, locked_until, "
            "expires_at) VALUES ('1', ?, '', 'completed', 'o', ?, ?)",
            [
                ("old", "2020-01-01 00:00:00", "2020-01-02 00:00:00"),
                ("new", "2020-01-01 00:00:00", "2999-01-01 00:00:00"),
            ],
        )
    code, out, err = invoke(["db", "prune"], env)
    assert (code, err) == (0, "")
    assert out.startswith("Pruned 1 expired Idempotency-Key answers")
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("SELECT key FROM idempotency_keys").fetchall() == [("new",)]


@pytest.mark.usefixtures("clean_env")
def test_seed_tops_up_to_the_requested_count(tmp_path: Path, sqlite_url: str) -> None:
    env = {"APIFORGE_ENVIRONMENT": "test", "APIFORGE_DATABASE_URL": sqlite_url}
    assert invoke(["db", "upgrade"], env)[0] == 0
    assert invoke(["db", "seed", "--products", "30"], env)[0] == 0
    code, out, _ = invoke(["db", "seed", "--products", "50"], env)
    assert code == 0
    assert "20 new products (50 in all)" in out
    assert _counts(tmp_path / "cli.db") == (12, 50, 2)


@pytest.mark.usefixtures("clean_env")
def test_seed_is_refused_in_production(tmp_path: Path, sqlite_url: str) -> None:
    env = {
        "APIFORGE_ENVIRONMENT": "production",
        "APIFORGE_SECRET_KEY": PRODUCTION_KEY,
        "APIFORGE_DATABASE_URL": sqlite_url,
    }
    assert invoke(["db", "upgrade"], env)[0] == 0
    code, out, err = invoke(["db", "seed", "--products", "5"], env)
    assert code == 1
    assert "only seeded in development" in err
    assert "Demo login" not in out
    assert _counts(tmp_path / "cli.db") == (0, 0, 0)


@pytest.mark.usefixtures("clean_env")
def test_seed_before_upgrade_says_to_migrate(sqlite_url: str) -> None:
    env = {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
    code, _, err = invoke(["db", "seed", "--products", "5"], env)
    assert code == 1
    assert "apiforge db upgrade" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "current"], ["db", "seed"]])
def test_an_unreachable_database_is_one_line(command: list[str]) -> None:
    port = free_port()  # nothing listens there
    env = {
        "APIFORGE_ENVIRONMENT": "development",
        "APIFORGE_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing",
        "APIFORGE_DB__POOL_TIMEOUT": "2",
    }
    code, out, err = invoke(command, env)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1, err
    assert err.startswith(
        f"apiforge: cannot reach the database at postgresql+asyncpg://postgres@127.0.0.1:{port}/nothing"
    )
