import pytest
from sqlite_utils import Database

from state import MigrationError
from state.migrations import REGISTRY, Registry, apply_migrations


@pytest.fixture
def empty_db() -> Database:
    return Database(memory=True)


def tracking_registry(order: list[int], numbers: list[int]) -> Registry:
    """A registry whose migration n creates table t<n> and notes that it ran."""
    registry = Registry()
    for number in numbers:

        def create(db: Database, number: int = number) -> None:
            order.append(number)
            db.execute(f"CREATE TABLE t{number} (id INTEGER PRIMARY KEY)")

        registry.register(number, f"table {number}")(create)
    return registry


def test_migrations_run_once_in_order_and_are_recorded(empty_db: Database) -> None:
    """Pending migrations run by number, each recorded with its name and time."""
    order: list[int] = []
    registry = tracking_registry(order, [3, 1, 2])

    first = apply_migrations(empty_db, registry)
    second = apply_migrations(empty_db, registry)

    assert first == [1, 2, 3]
    assert second == []
    assert order == [1, 2, 3]
    rows = list(empty_db.query("SELECT number, name, applied_at FROM _migrations"))
    assert [(r["number"], r["name"]) for r in rows] == [
        (1, "table 1"),
        (2, "table 2"),
        (3, "table 3"),
    ]
    assert all(r["applied_at"].endswith("+00:00") for r in rows)


def test_failing_migration_rolls_back_alone(empty_db: Database) -> None:
    """A migration that raises undoes its own work; earlier ones stay applied."""
    registry = tracking_registry([], [1])

    @registry.register(2, "half done")
    def half_done(db: Database) -> None:
        db.execute("CREATE TABLE half (id INTEGER PRIMARY KEY)")
        raise RuntimeError("disk on fire")

    with pytest.raises(MigrationError, match=r"migration 2 \(half done\) failed.*disk on fire"):
        apply_migrations(empty_db, registry)

    assert empty_db.table_names() == ["_migrations", "t1"]
    assert [r["number"] for r in empty_db.query("SELECT number FROM _migrations")] == [1]
    assert not empty_db.conn.in_transaction


def test_number_registered_twice_is_an_error() -> None:
    """Registering a taken number fails at once and suggests the next free one."""
    registry = tracking_registry([], [1, 2])

    with pytest.raises(MigrationError, match="registered twice.*next free number, 3"):
        registry.register(2, "again")


def test_database_newer_than_the_code_is_refused(empty_db: Database) -> None:
    """A database that applied a migration this code lacks is not touched."""
    apply_migrations(empty_db, tracking_registry([], [1, 2]))

    with pytest.raises(MigrationError, match=r"migrations \[2\] that this code does not know"):
        apply_migrations(empty_db, tracking_registry([], [1]))


def test_new_migration_numbered_below_an_applied_one_is_refused(empty_db: Database) -> None:
    """Slotting a migration in below the highest applied number is an error."""
    apply_migrations(empty_db, tracking_registry([], [1, 3]))

    with pytest.raises(MigrationError, match=r"migrations \[2\] are new but numbered below 3"):
        apply_migrations(empty_db, tracking_registry([], [1, 2, 3]))


def test_migrations_refuse_an_open_transaction(empty_db: Database) -> None:
    """Migrations need their own transactions, so an open one is an error."""
    empty_db.execute("BEGIN")

    with pytest.raises(MigrationError, match="commit first"):
        apply_migrations(empty_db, tracking_registry([], [1]))


def test_warden_schema_creates_its_tables(empty_db: Database) -> None:
    """Warden's own migrations create every table of the state layer."""
    applied = apply_migrations(empty_db)

    assert applied == [m.number for m in REGISTRY.ordered()]
    assert set(empty_db.table_names()) >= {
        "audit_log",
        "outbox",
        "people",
        "job_schedule",
        "seen_deliveries",
    }
