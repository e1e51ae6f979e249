"""What `doctor` and `init` show about a live database: tables and views, and the SQL that
creates a role which can only read."""

from __future__ import annotations

from billdrift.infra.db.connect import connect
from tests.dbservers import ADMIN_PASSWORD, ADMIN_USER
from tests.infra.db.conftest import Database


def test_mariadb_tables_and_views_are_told_apart(maria: Database) -> None:
    maria.run(
        "CREATE TABLE users (id VARCHAR(40), has_paid_access BOOLEAN)",
        "CREATE VIEW paying AS SELECT id FROM users WHERE has_paid_access",
    )
    with connect(maria.url) as con:
        found = {
            table.name: (table.kind, [(c.name, c.type) for c in table.columns])
            for table in con.tables()
        }
    assert found == {
        "paying": ("view", [("id", "varchar(40)")]),
        "users": ("table", [("id", "varchar(40)"), ("has_paid_access", "tinyint(1)")]),
    }


def test_mariadb_read_only_role_sql_grants_select_only(maria: Database) -> None:
    with connect(maria.url) as con:
        named = con.read_only_role_sql(["users", f"{maria.name}.plans"])
        whole = con.read_only_role_sql([])
    with connect(maria.url_as(ADMIN_USER, ADMIN_PASSWORD).rsplit("/", 1)[0] + "/") as con:
        unnamed = con.read_only_role_sql([])  # no database in the URL
    user = "'billdrift_readonly'@'%'"
    create = f"CREATE USER {user} IDENTIFIED BY 'choose-a-strong-password';"
    assert named == (
        f"{create}\nGRANT SELECT ON `{maria.name}`.`users` TO {user};\n"
        f"GRANT SELECT ON `{maria.name}`.`plans` TO {user};"
    )
    assert whole == f"{create}\nGRANT SELECT ON `{maria.name}`.* TO {user};"
    assert unnamed == f"{create}\nGRANT SELECT ON `app`.* TO {user};"
